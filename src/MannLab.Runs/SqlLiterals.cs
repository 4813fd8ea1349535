namespace MannLab.Runs;

/// <summary>Words of a closed set as SQL literals: only the set's words go in, so nothing needs escaping.</summary>
internal static class SqlLiterals
{
    /// <summary>'failed', 'cancelled': comma-separated, for <c>x = ...</c> and <c>x in (...)</c>.</summary>
    public static string Of(IEnumerable<string> words, IReadOnlyList<string> set, string what) =>
        string.Join(", ", words.Select(w => set.Contains(w) ? $"'{w}'" : throw new ArgumentException($"'{w}' is not {what}", nameof(words))));
}
