using Compose.Store;
using Npgsql;
using NpgsqlTypes;

namespace Compose.PostgreSql;

/// <summary>One plugin's view of the PostgreSQL store: every statement is filtered by its plugin id.</summary>
internal sealed class PostgreSqlPluginStore(PostgreSqlStoreBackend backend, string pluginId) : IPluginStore
{
    private const string Live = "(expires_at IS NULL OR expires_at > now())";

    public string PluginId => pluginId;

    public ValueTask<PluginStoreEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidateKey(key);
        return new(backend.RunAsync(pluginId, "get", async (connection, ct) =>
        {
            await using var command = Command(connection, $"SELECT value, version, expires_at FROM {backend.Table} WHERE plugin_id = $1 AND key = $2 AND {Live}", key);
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return null;
            }

            var value = (byte[])reader.GetValue(0);
            DateTimeOffset? expires = reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero);
            return new PluginStoreEntry(key, value, reader.GetInt64(1), expires);
        }, cancellationToken));
    }

    public ValueTask<long> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, expiresAfter);
        var bytes = value.ToArray();
        return new(backend.RunAsync(pluginId, "set", async (connection, ct) =>
        {
            await using var command = Command(connection, $"""
                INSERT INTO {backend.Table} (plugin_id, key, value, version, expires_at)
                VALUES ($1, $2, $3, nextval('{backend.Sequence}'), now() + $4)
                ON CONFLICT (plugin_id, key) DO UPDATE SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at
                RETURNING version
                """, key, bytes, expiresAfter);
            return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, cancellationToken));
    }

    public ValueTask<PluginStoreWriteResult> CompareAndSetAsync(string key, long expectedVersion, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, expiresAfter);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var bytes = value.ToArray();
        return new(backend.RunAsync(pluginId, "compare-and-set", async (connection, ct) =>
        {
            // "Absent" includes an expired entry; otherwise the row's version must still be the one read.
            var sql = expectedVersion == 0
                ? $"""
                  INSERT INTO {backend.Table} AS s (plugin_id, key, value, version, expires_at)
                  VALUES ($1, $2, $3, nextval('{backend.Sequence}'), now() + $4)
                  ON CONFLICT (plugin_id, key) DO UPDATE SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at
                  WHERE s.expires_at IS NOT NULL AND s.expires_at <= now()
                  RETURNING version
                  """
                : $"""
                  UPDATE {backend.Table} SET value = $3, version = nextval('{backend.Sequence}'), expires_at = now() + $4
                  WHERE plugin_id = $1 AND key = $2 AND version = $5 AND {Live}
                  RETURNING version
                  """;
            await using (var command = Command(connection, sql, key, bytes, expiresAfter))
            {
                if (expectedVersion != 0)
                {
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion });
                }

                if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long won)
                {
                    return new PluginStoreWriteResult(true, won);
                }
            }

            await using var current = Command(connection, $"SELECT version FROM {backend.Table} WHERE plugin_id = $1 AND key = $2 AND {Live}", key);
            return new PluginStoreWriteResult(false, await current.ExecuteScalarAsync(ct).ConfigureAwait(false) is long version ? version : 0);
        }, cancellationToken));
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidateKey(key);
        return new(backend.RunAsync(pluginId, "delete", async (connection, ct) =>
        {
            await using var command = Command(connection, $"DELETE FROM {backend.Table} WHERE plugin_id = $1 AND key = $2 RETURNING {Live}", key);
            return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is true;
        }, cancellationToken));
    }

    public ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix = "", int limit = 1000, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidatePrefix(prefix);
        PluginStoreLimits.ValidateListLimit(limit);
        return new(backend.RunAsync<IReadOnlyList<string>>(pluginId, "list", async (connection, ct) =>
        {
            await using var command = Command(connection, $"SELECT key FROM {backend.Table} WHERE plugin_id = $1 AND starts_with(key, $2) AND {Live} ORDER BY key LIMIT $3", prefix);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            var keys = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                keys.Add(reader.GetString(0));
            }

            return keys;
        }, cancellationToken));
    }

    private static void Validate(string key, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter)
    {
        PluginStoreLimits.ValidateKey(key);
        PluginStoreLimits.ValidateValue(value);
        PluginStoreLimits.ValidateExpiry(expiresAfter);
    }

    // $1 is always the plugin id: no statement of this class reaches another plugin's rows.
    private NpgsqlCommand Command(NpgsqlConnection connection, string sql, string key, byte[]? value = null, TimeSpan? expiresAfter = null, bool withValue = true)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = pluginId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Text });
        if (value is not null && withValue)
        {
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bytea });
            command.Parameters.Add(new NpgsqlParameter { Value = expiresAfter is { } span ? span : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Interval });
        }

        return command;
    }
}
