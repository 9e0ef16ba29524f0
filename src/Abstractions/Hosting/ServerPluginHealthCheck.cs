using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Compose.Hosting;

/// <summary>
/// Health of the composed plugins (Tailchat's <c>/health</c>, Mattermost's plugin statuses): Unhealthy, naming
/// them, when any plugin has failed; Degraded, naming them, when a plugin's hosted service crashed within the crash
/// window; Healthy otherwise. Registered by <c>AddServerPlugins</c> as
/// <c>server-plugins</c> (tag <c>compose</c>), so <c>app.MapHealthChecks("/health")</c> includes it.
/// </summary>
internal sealed class ServerPluginHealthCheck(ServerPluginCatalog catalog) : IHealthCheck
{
    public const string Name = "server-plugins";
    public const string Tag = "compose";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failed = catalog.Where(e => e.State == ServerPluginState.Failed).Select(e => e.Descriptor.Id).ToList();
        var degraded = catalog.Where(e => e.State == ServerPluginState.Degraded).Select(e => e.Descriptor.Id).ToList();
        var data = catalog.ToDictionary(e => e.Descriptor.Id, e => (object)e.State.ToString(), StringComparer.Ordinal);
        return Task.FromResult(
            failed.Count > 0 ? HealthCheckResult.Unhealthy(Describe("Failed", failed, degraded), data: data)
            : degraded.Count > 0 ? HealthCheckResult.Degraded(Describe("Degraded", degraded, []), data: data)
            : HealthCheckResult.Healthy($"{catalog.Count(e => e.State == ServerPluginState.Running)} server plugin(s) running", data));
    }

    private static string Describe(string state, List<string> ids, List<string> degraded)
    {
        var text = $"{state} server plugins: {string.Join(", ", ids)}";
        return degraded.Count > 0 ? $"{text}; degraded: {string.Join(", ", degraded)}" : text;
    }
}

/// <summary>
/// Health of one composed plugin, registered as <c>server-plugins:{id}</c> with the tag <c>compose-plugin</c> beside the
/// aggregate <c>server-plugins</c> (tag <c>compose</c>): a host maps only the aggregate
/// (<c>Predicate = r => r.Tags.Contains("compose")</c>) or every plugin's (Aspire's health per integration).
/// Unhealthy when failed, Degraded when degraded, Healthy otherwise (a disabled plugin is healthy: it was switched off).
/// A plugin with run-once services names each lease's holder in the description and in the data: <c>runOnce</c> (the
/// <see cref="Store.RunOnceServiceStatus"/> list) and, for writers that show text only, <c>runOnce:{service}</c>
/// (<c>"{holder} (this replica) since {since:O}"</c>, <c>"{holder} since …"</c> or <c>"no holder known"</c>).
/// </summary>
internal sealed class PluginHealthCheck(ServerPluginEntry entry) : IHealthCheck
{
    public const string Tag = "compose-plugin";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = entry.State;
        var description = $"Server plugin '{entry.Descriptor.Id}' is {state}";
        IReadOnlyDictionary<string, object>? data = null;
        if (entry.RunOnce is { Count: > 0 } runOnce)
        {
            var values = new Dictionary<string, object>(StringComparer.Ordinal) { ["runOnce"] = runOnce };
            foreach (var service in runOnce)
            {
                var holder = Describe(service);
                values[$"runOnce:{service.Service}"] = holder;
                description += $"; run-once '{service.Service}': {holder}";
            }

            data = values;
        }

        return Task.FromResult(state switch
        {
            ServerPluginState.Failed => HealthCheckResult.Unhealthy(description, data: data),
            ServerPluginState.Degraded => HealthCheckResult.Degraded(description, data: data),
            _ => HealthCheckResult.Healthy(description, data),
        });
    }

    private static string Describe(Store.RunOnceServiceStatus service)
    {
        if (service.Holder is null)
        {
            return "no holder known";
        }

        var since = service.Since?.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        return service.HeldByThisReplica ? $"{service.Holder} (this replica) since {since}" : $"{service.Holder} since {since}";
    }
}
