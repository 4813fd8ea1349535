using MannLab.Runs;

namespace MannLab.Training;

/// <summary>Counts right answers by instance index: the basis of per-instance accuracy.</summary>
public sealed class InstanceTally(int maxInstance)
{
    private readonly long[] _correct = new long[maxInstance + 1], _total = new long[maxInstance + 1];

    public void Add(bool[] correct, int[] instances)
    {
        for (var i = 0; i < correct.Length; i++)
        {
            var k = instances[i];
            if (k > maxInstance) continue; // beyond what is reported (possible only with episode lengths)
            _total[k]++;
            if (correct[i]) _correct[k]++;
        }
    }

    public double Accuracy(int instance) => _total[instance] == 0 ? double.NaN : (double)_correct[instance] / _total[instance];
    public double Overall => _total.Sum() == 0 ? double.NaN : (double)_correct.Sum() / _total.Sum();

    public IReadOnlyList<InstanceAccuracy> Rows(long episode, string split, int classes, IEnumerable<int> instances) =>
        [.. instances.Select(k => new InstanceAccuracy(episode, split, classes, k, _correct[k], _total[k]))];
}
