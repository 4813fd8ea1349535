namespace MannLab.Testing;

/// <summary>
/// The kinds of test that `./test.sh --fast` leaves out for development: those that train until a
/// model has learned, and those that read the whole Omniglot set. `./test.sh`, and so CI, runs them.
/// </summary>
public static class TestKind
{
    public const string Trait = "Kind";
    public const string Learning = "learning";
    public const string FullOmniglot = "full-omniglot";
}
