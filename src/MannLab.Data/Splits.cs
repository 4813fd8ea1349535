using MannLab.Spec;

namespace MannLab.Data;

/// <summary>A class of an episode: a character, turned by a number of quarter turns (0 for the original).</summary>
public readonly record struct ClassRef(int Character, int Rotation);

/// <summary>Which characters train and which test; disjoint by construction.</summary>
public sealed record DataSplit(string Description, IReadOnlyList<int> TrainCharacters, IReadOnlyList<int> TestCharacters)
{
    /// <summary>The classes of a side: each character, and with rotation classes its three rotations as well.</summary>
    public static IReadOnlyList<ClassRef> Classes(IReadOnlyList<int> characters, bool rotationClasses) =>
        [.. characters.SelectMany(c => Enumerable.Range(0, rotationClasses ? 4 : 1).Select(r => new ClassRef(c, r)))];

    public static DataSplit Make(GlyphSet set, ClassSplit split, int seed)
    {
        switch (split)
        {
            case ClassSplit.Paper paper:
            {
                var count = set.Characters.Count;
                if (paper.trainCharacters >= count)
                    throw new DataException($"{set.Source}: the split asks for {paper.trainCharacters} training characters but the set has {count}");
                var order = DetRandom.For(seed, 0x5B117).Distinct(count, count);
                var train = order[..paper.trainCharacters].Order().ToArray();
                var test = order[paper.trainCharacters..].Order().ToArray();
                return new DataSplit($"paper: {train.Length} random characters train, {test.Length} test (split seed {seed})", train, test);
            }
            default:
            {
                int[] Of(string word) => [.. set.Characters.Select((c, i) => (c, i)).Where(x => x.c.Subset.Contains(word)).Select(x => x.i)];
                var train = Of("background");
                var test = Of("evaluation");
                if (train.Length == 0 || test.Length == 0)
                    throw new DataException($"{set.Source}: the background-evaluation split needs both a background and an evaluation subset; " +
                                            $"found {string.Join(", ", set.Characters.Select(c => c.Subset).Distinct())}");
                return new DataSplit($"background-evaluation: {train.Length} background characters train, {test.Length} evaluation characters test", train, test);
            }
        }
    }
}
