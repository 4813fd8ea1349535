using MannLab.Spec;

namespace MannLab.Data;

/// <summary>
/// Label encodings (Santoro et al. 2016, section 4.1): one-hot vectors over the task's classes,
/// or strings of five characters over five symbols, encoded as five concatenated one-hots. An
/// episode of fewer classes than the task's (a curriculum's, or an evaluation at another class
/// count) draws its labels from the same vectors, so the model's input and output keep their width.
/// </summary>
public sealed class LabelCodec(LabelEncoding encoding, int classes)
{
    public const int StringLength = 5, Symbols = 5;
    public const int StringCodes = 3125; // Symbols ^ StringLength

    public bool IsString { get; } = encoding.IsStringLabels;
    public int Classes { get; } = classes;
    public int VectorWidth => IsString ? StringLength * Symbols : Classes;
    public int TargetWidth => IsString ? StringLength : 1;

    /// <summary>A fresh label for each of an episode's <paramref name="classes"/>: distinct one-hot indices (a permutation at the task's classes), or distinct strings.</summary>
    public int[] Draw(ref DetRandom rng, int classes) => rng.Distinct(IsString ? StringCodes : Classes, classes);

    public void WriteVector(int label, Span<float> vector)
    {
        vector.Clear();
        if (!IsString) { vector[label] = 1; return; }
        for (var i = 0; i < StringLength; i++) vector[i * Symbols + Symbol(label, i)] = 1;
    }

    public void WriteTargets(int label, Span<long> targets)
    {
        if (!IsString) { targets[0] = label; return; }
        for (var i = 0; i < StringLength; i++) targets[i] = Symbol(label, i);
    }

    /// <summary>The i-th character (most significant first) of a string code, in [0, 5).</summary>
    public static int Symbol(int code, int i)
    {
        for (var k = StringLength - 1; k > i; k--) code /= Symbols;
        return code % Symbols;
    }

    /// <summary>A string label as text over the symbols a..e, e.g. "cabed".</summary>
    public static string Text(int code) => new([.. Enumerable.Range(0, StringLength).Select(i => (char)('a' + Symbol(code, i)))]);
}
