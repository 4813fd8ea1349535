namespace MannLab.Jobs.Tests;

/// <summary>The tests sharing one PostgreSQL cluster (xunit wants the definition in the tests' own assembly).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<HangfireLog>
{
    public const string Name = "postgres";
}
