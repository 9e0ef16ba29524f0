using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Compose.Store.Tests;

/// <summary>
/// Full Compose hosts as replicas: samples/Host (the generator composes hello-world, llm-proxy and ticker; Kestrel on
/// a free 127.0.0.1 port) started as separate processes with <c>Compose:Store:Provider=PostgreSql</c> on the shared
/// throw-away cluster, each with its own data root and replica id, every test in a schema of its own.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostReplicaTests(PostgresCluster cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "sk-replica-0123456789abcdef";
    private const string Model = "replica-model";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private static readonly string Configuration =
        typeof(HostReplicaTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;

    private readonly string _schema = "t" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<RunningServer> _hosts = [];
    private readonly TempDirectory _data = new("replicas");

    public static string HostDirectory => Path.Combine(RepoPaths.Root, "samples", "Host");

    public static string HostDll => Path.Combine(HostDirectory, "bin", Configuration, "net10.0", "Compose.Samples.Host.dll");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        _data.Dispose();
    }

    [Fact]
    public async Task LlmProxy_configured_on_one_replica_serves_status_and_chat_on_the_other()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var a = await StartAsync("replica-a");
        var b = await StartAsync("replica-b");
        await b.DiagnoseAsync(async () =>
        {
            Assert.Contains("\"configured\":false", (await b.GetAsync("/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK).Body, StringComparison.Ordinal);
            (await b.PostJsonAsync("/api/plugins/llm-proxy/chat", Hi)).AssertStatus(HttpStatusCode.ServiceUnavailable);

            // One POST /config on replica A ...
            var config = JsonSerializer.Serialize(new Dictionary<string, string> { ["apiUrl"] = upstream.ChatCompletions.ToString(), ["apiKey"] = ApiKey, ["model"] = Model });
            (await a.PostJsonAsync("/api/plugins/llm-proxy/config", config)).AssertStatus(HttpStatusCode.OK);

            // ... and replica B reports it (never the key) and proxies with the key, on its very next request.
            var status = (await b.GetAsync("/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK);
            Assert.Contains("\"configured\":true", status.Body, StringComparison.Ordinal);
            Assert.Contains(Model, status.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKey, status.Body, StringComparison.Ordinal);
            var chat = (await b.PostJsonAsync("/api/plugins/llm-proxy/chat", Hi)).AssertStatus(HttpStatusCode.OK);
            using (var json = chat.Json())
            {
                Assert.Equal(FakeUpstream.Answer, json.RootElement.GetProperty("text").GetString());
            }

            Assert.Equal($"Bearer {ApiKey}", Assert.Single(upstream.Requests).Authorization);

            // Nothing of it is a local file: neither replica's data root holds the configuration or the key.
            foreach (var file in Directory.EnumerateFiles(_data.Path, "*", SearchOption.AllDirectories))
            {
                Assert.DoesNotContain(ApiKey, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
            }

            Assert.DoesNotContain(ApiKey, a.Process.Output + b.Process.Output, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Bad_input_to_a_PostgreSQL_replica_is_a_clear_4xx_never_a_500_and_nothing_is_stored()
    {
        var a = await StartAsync("replica-a");
        var b = await StartAsync("replica-b");
        await a.DiagnoseAsync(async () =>
        {
            string Config(string model) => JsonSerializer.Serialize(new Dictionary<string, string> { ["apiUrl"] = "http://127.0.0.1:9/v1", ["apiKey"] = ApiKey, ["model"] = model });
            var cases = new (string Body, HttpStatusCode Status)[]
            {
                (Config("m\0x"), HttpStatusCode.BadRequest),                           // NUL
                (Config("../../etc/passwd\\x"), HttpStatusCode.OK),                    // path separators are plain text here: stored, never a path
                ($$"""{"apiUrl":"http://127.0.0.1:9/v1","apiKey":"{{ApiKey}}","model":"{{new string('<', 300_000)}}"}""", HttpStatusCode.BadRequest), // stored JSON over the 1 MiB value limit
                (Config(new string('m', 10 * 1024 * 1024)), HttpStatusCode.RequestEntityTooLarge), // a 10 MB value
                ("""{"apiUrl":5,"apiKey":[],"model":{}}""", HttpStatusCode.BadRequest), // JSON of the wrong shape
                ("{\"apiUrl\":", HttpStatusCode.BadRequest),                           // not JSON
            };
            foreach (var (body, status) in cases)
            {
                var result = await a.PostJsonAsync("/api/plugins/llm-proxy/config", body);
                result.AssertStatus(status);
                if (status != HttpStatusCode.OK)
                {
                    Assert.Equal("application/problem+json", result.MediaType);
                }
            }

            // Only the valid one was stored, and the other replica sees exactly that.
            Assert.Contains("../../etc/passwd", (await b.GetAsync("/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK).Body, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled", a.Process.Output, StringComparison.OrdinalIgnoreCase);
        });
    }

    [Fact]
    public async Task Ticker_ticks_on_one_replica_both_catalogs_name_the_holder_and_kill_9_moves_it()
    {
        var replicas = new[] { await StartAsync("replica-a"), await StartAsync("replica-b") };
        string[] ids = ["replica-a", "replica-b"];

        // Exactly one replica holds the lease; both catalogs name it, with the same since.
        var holder = -1;
        await EventuallyAsync(async () =>
        {
            var views = await Task.WhenAll(replicas.Select(RunOnceAsync));
            holder = Array.FindIndex(views, v => v?.Held == true);
            return holder >= 0 && views.All(v => v?.Holder == ids[holder]);
        }, Bound, "one replica holds ticker/ticks and both catalogs name it");
        var other = 1 - holder;
        var held = (await RunOnceAsync(replicas[holder]))!;
        var seen = (await RunOnceAsync(replicas[other]))!;
        Assert.False(seen.Held);
        Assert.Equal(held.Since, seen.Since);
        using (var catalog = (await replicas[other].GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json())
        {
            Assert.Equal(ids[other], catalog.RootElement.GetProperty("replica").GetString());
        }

        // Only the holder ticks.
        await EventuallyAsync(async () => await TicksAsync(replicas[holder]) >= 3, Bound, "the holder ticks");
        Assert.Equal(0, await TicksAsync(replicas[other]));

        // kill -9 of the holder: the other replica takes over within the bound and starts ticking.
        var clock = Stopwatch.StartNew();
        replicas[holder].Process.Kill();
        await EventuallyAsync(async () => (await RunOnceAsync(replicas[other]))?.Held == true, Bound, "the other replica takes over");
        var takeover = clock.Elapsed;
        output.WriteLine($"takeover after kill -9 of a full host: {takeover.TotalMilliseconds:F0} ms (LeaseCheckInterval 500 ms)");
        Assert.True(takeover < Bound, $"takeover took {takeover}");
        var now = (await RunOnceAsync(replicas[other]))!;
        Assert.Equal(ids[other], now.Holder);
        Assert.True(now.Since > held.Since, $"since did not move: {held.Since:O} then {now.Since:O}");
        await EventuallyAsync(async () => await TicksAsync(replicas[other]) >= 1, Bound, "the new holder ticks");
    }

    private const string Hi = """{"messages":[{"role":"user","content":"hi"}]}""";

    private sealed record RunOnceView(string? Holder, bool Held, DateTimeOffset? Since);

    private static async Task<RunOnceView?> RunOnceAsync(RunningServer host)
    {
        using var catalog = (await host.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
        var ticker = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "ticker");
        if (!ticker.TryGetProperty("runOnce", out var runOnce))
        {
            return null;
        }

        var lease = Assert.Single(runOnce.EnumerateArray());
        Assert.Equal("ticker/ticks", lease.GetProperty("service").GetString());
        return new RunOnceView(
            lease.TryGetProperty("holder", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null,
            lease.GetProperty("heldByThisReplica").GetBoolean(),
            lease.TryGetProperty("since", out var s) && s.ValueKind == JsonValueKind.String ? s.GetDateTimeOffset() : null);
    }

    private static async Task<long> TicksAsync(RunningServer host)
    {
        using var ticks = (await host.GetAsync("/api/plugins/ticker/ticks")).AssertStatus(HttpStatusCode.OK).Json();
        return ticks.RootElement.GetProperty("count").GetInt64();
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Not within {timeout.TotalSeconds:0}s: {what}");
            await Task.Delay(100);
        }
    }

    private async Task<RunningServer> StartAsync(string replicaId)
    {
        var environment = new Dictionary<string, string>
        {
            ["Compose__Store__Provider"] = "PostgreSql",
            ["Compose__Store__ConnectionString"] = cluster.ConnectionString,
            ["Compose__Store__Schema"] = _schema,
            ["Compose__Store__ReplicaId"] = replicaId,
            ["Compose__Store__LeaseCheckInterval"] = "00:00:00.5",
            ["Compose__DataRoot"] = _data.Sub(replicaId),
            ["Compose__Plugins__ticker__IntervalMilliseconds"] = "100",
        };
        var host = await RunningServer.StartAsync(DotNet.Executable, [HostDll], HostDirectory, "/health", environment);
        _hosts.Add(host);
        return host;
    }
}
