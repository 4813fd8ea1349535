using Npgsql;

namespace MannLab.Storage;

/// <summary>The result of a query, as the pages and charts read it.</summary>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)
{
    public int Column(string name)
    {
        var i = Columns.ToList().FindIndex(c => c == name);
        return i >= 0 ? i : throw new ArgumentException($"the query has no column '{name}' (it has {string.Join(", ", Columns)})");
    }

    /// <summary>
    /// Runs <paramref name="sql"/> in a read-only transaction with a statement timeout: how a
    /// dashboard's SQL (anyone's) is run, and how the pages read. Parameters are bound, never
    /// spliced in; those the SQL does not name are left out.
    /// </summary>
    public static async Task<QueryResult> ReadOnlyAsync(NpgsqlDataSource source, string sql, IReadOnlyDictionary<string, object?> parameters,
        CancellationToken cancel = default)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await using (var guard = new NpgsqlCommand("set transaction read only; set local statement_timeout = '10s'", connection, transaction))
            await guard.ExecuteNonQueryAsync(cancel);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
            if (sql.Contains("@" + name)) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync(cancel))
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return new QueryResult(columns, rows);
    }
}
