using MannLab.Spec;

namespace MannLab.Spec.Tests;

/// <summary>Parses spec text as if it were a file named spec.yaml.</summary>
public static class SpecText
{
    public const string File = "spec.yaml";

    public static ExperimentFile Valid(string yaml)
    {
        var result = Experiments.parse(File, yaml);
        result.IsOk.Should().BeTrue("the spec should be valid, but: " +
            (result.IsError ? string.Join("\n", result.ErrorValue.Select(e => e.ToString())) : ""));
        return result.ResultValue;
    }

    public static Spec Single(string yaml) => Valid(yaml).Runs.ToList().Should().ContainSingle().Subject.Spec;

    public static List<SpecError> Errors(string yaml)
    {
        var result = Experiments.parse(File, yaml);
        result.IsError.Should().BeTrue("the spec should be invalid");
        return result.ErrorValue.ToList();
    }

    /// <summary>The one error the text has, checked for its position, field path and message.</summary>
    public static void ShouldFailWith(string yaml, int line, int column, string path, string messagePart)
    {
        var errors = Errors(yaml);
        errors.Should().ContainSingle(string.Join("\n", errors.Select(e => e.ToString())));
        var e = errors[0];
        e.File.Should().Be(File);
        (e.Position.Line, e.Position.Column, e.Path).Should().Be((line, column, path), e.ToString());
        e.Message.Should().Contain(messagePart);
    }
}
