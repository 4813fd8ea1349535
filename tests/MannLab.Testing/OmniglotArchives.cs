using MannLab.Data;

namespace MannLab.Testing;

/// <summary>
/// The real Omniglot archives, read in place (read-only, never copied into the project): where
/// MannLab finds them from the test host ($MANNLAB_OMNIGLOT, else ../shared/omniglot beside the repository).
/// </summary>
public static class OmniglotArchives
{
    public static string Folder
    {
        get
        {
            var folder = Datasets.LocateOmniglot().Path;
            if (OmniglotReader.Absence(folder) is { } absence)
                throw new InvalidOperationException($"these tests need the real Omniglot archives ({absence}); set MANNLAB_OMNIGLOT to their folder");
            return folder;
        }
    }
}
