namespace MannLab.Testing;

/// <summary>The small synthetic task that training tests run many iterations of: 12x12 glyphs, 3 classes x 4 sights.</summary>
public static class SmallSpec
{
    public static string Yaml(string name, string model, string training, string evaluation, string checkpoint) => $"""
        name: {name}
        dataset:
          source: synthetic
          image_size: 12
          synthetic: {"{alphabets: 6, characters: 8, drawers: 12}"}
        task: {"{classes: 3, instances: 4}"}
        model: {model}
        training: {training}
        evaluation: {evaluation}
        checkpoint: {checkpoint}
        """;
}
