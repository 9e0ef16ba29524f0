using System.Diagnostics.CodeAnalysis;
using Compose.Store;
using Npgsql;

namespace Compose.PostgreSql;

/// <summary>One plugin's cluster events over <c>NOTIFY compose_plugin_events</c>; received events fan out in process.</summary>
internal sealed class PostgreSqlClusterEvents(PostgreSqlStoreBackend backend, string pluginId) : IPluginClusterEvents
{
    public string PluginId => pluginId;

    public InProcessClusterEvents Local { get; } = new(pluginId, backend.ReplicaId, backend.StoreLogger);

    public Task PublishAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidateEvent(name, payload);
        var message = Format(pluginId, backend.ReplicaId, name, payload.Span);
        return backend.RunAsync(pluginId, "publish", async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgreSqlStoreBackend.Channel });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = message });
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return 0;
        }, cancellationToken);
    }

    public IDisposable Subscribe(Func<PluginClusterEvent, CancellationToken, Task> handler) => Local.Subscribe(handler);

    // Line-separated: plugin id, sender, name (none may hold a control character), then the payload in base64.
    internal static string Format(string pluginId, string sender, string name, ReadOnlySpan<byte> payload)
        => string.Join('\n', pluginId, sender, name, Convert.ToBase64String(payload));

    internal static bool TryParse(string message, string replicaId, [NotNullWhen(true)] out string? pluginId, [NotNullWhen(true)] out PluginClusterEvent? clusterEvent)
    {
        pluginId = null;
        clusterEvent = null;
        var parts = message.Split('\n');
        if (parts.Length != 4 || parts[0].Length == 0)
        {
            return false;
        }

        var bytes = new byte[(parts[3].Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(parts[3], bytes, out var written))
        {
            return false;
        }

        pluginId = parts[0];
        clusterEvent = new PluginClusterEvent(parts[2], bytes.AsMemory(0, written), parts[1], string.Equals(parts[1], replicaId, StringComparison.Ordinal));
        return true;
    }
}
