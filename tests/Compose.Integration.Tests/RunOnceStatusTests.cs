using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Compose.Integration.Tests;

/// <summary>
/// The run-once lease holder in the catalog and the per-plugin health check, with the embedded default (no shared
/// backend: this replica always holds the lease) and a configured replica id. The PostgreSQL case, where a replica
/// names another as the holder, runs with real host processes in Compose.Store.Tests (HostReplicaTests).
/// </summary>
public sealed class RunOnceStatusTests
{
    [Fact]
    public async Task The_catalog_and_the_plugin_health_name_this_replica_as_the_holder_of_the_tickers_lease()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var host = await PluginHost.StartAsync(
            ["ticker", "hello-world"],
            new Dictionary<string, string?> { ["Compose:Store:ReplicaId"] = "it-replica-1", ["Compose:Plugins:ticker:IntervalMilliseconds"] = "50" },
            configureApp: app => app.MapServerPluginCatalog());

        JsonElement lease = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var catalog = JsonDocument.Parse(await host.Client.GetStringAsync("/api/plugins"));
            Assert.Equal("it-replica-1", catalog.RootElement.GetProperty("replica").GetString());
            var plugins = catalog.RootElement.GetProperty("plugins").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
            Assert.False(plugins["hello-world"].TryGetProperty("runOnce", out _), "A plugin without run-once services lists none.");
            if (plugins["ticker"].TryGetProperty("runOnce", out var runOnce) && runOnce[0].GetProperty("heldByThisReplica").GetBoolean())
            {
                lease = runOnce.Clone()[0];
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(JsonValueKind.Object, lease.ValueKind);
        Assert.Equal("ticker/ticks", lease.GetProperty("service").GetString());
        Assert.Equal("it-replica-1", lease.GetProperty("holder").GetString());
        Assert.InRange(lease.GetProperty("since").GetDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(1));

        var report = await host.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "server-plugins:ticker");
        var entry = Assert.Single(report.Entries).Value;
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        var text = Assert.IsType<string>(entry.Data["runOnce:ticker/ticks"]);
        Assert.StartsWith("it-replica-1 (this replica) since ", text, StringComparison.Ordinal);
        Assert.Contains("run-once 'ticker/ticks': it-replica-1 (this replica)", entry.Description, StringComparison.Ordinal);
        var statuses = Assert.IsAssignableFrom<IReadOnlyList<Compose.Store.RunOnceServiceStatus>>(entry.Data["runOnce"]);
        Assert.True(Assert.Single(statuses).HeldByThisReplica);

        // Stopped with the plugin: no holder is claimed any more.
        await host.ReloadAsync("Compose:Plugins:ticker:Enabled", "false");
        var catalogEntry = host.App.Services.GetRequiredService<ServerPluginCatalog>().Find("ticker")!;
        for (var attempt = 0; attempt < 100 && catalogEntry.RunOnce.Any(s => s.HeldByThisReplica); attempt++)
        {
            await Task.Delay(50);
        }

        var stopped = Assert.Single(catalogEntry.RunOnce);
        Assert.False(stopped.HeldByThisReplica);
        Assert.Null(stopped.Holder);
    }

    [Theory]
    [InlineData(" padded")]
    [InlineData("line\nbreak")]
    [InlineData("nul\0")]
    public async Task An_invalid_replica_id_is_refused_at_start_up_naming_the_setting(string replicaId)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PluginHost.StartAsync(
            ["hello-world"], new Dictionary<string, string?> { ["Compose:Store:ReplicaId"] = replicaId }));
        Assert.Contains("Compose:Store:ReplicaId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_id_longer_than_128_bytes_is_refused()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PluginHost.StartAsync(
            ["hello-world"], new Dictionary<string, string?> { ["Compose:Store:ReplicaId"] = new string('r', 129) }));
        Assert.Contains("128", error.Message, StringComparison.Ordinal);
    }
}
