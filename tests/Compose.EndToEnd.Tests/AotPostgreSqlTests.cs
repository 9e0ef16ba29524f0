using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Compose.EndToEnd.Tests.Infrastructure;
using Compose.Store.Tests;
using Xunit.Abstractions;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The Native AOT publish of samples/Host (the shared <see cref="AotPublishFixture"/>; Compose.PostgreSql is in it,
/// switched on by <c>Compose:Store:Provider=PostgreSql</c>) as one replica and the same build under JIT (the IL build
/// output the publish compiled from) as the other, on a throw-away PostgreSQL cluster: a configuration written through
/// one is read by the other in both directions, and the ticker's run-once lease is held by one, named by both
/// catalogs, and taken over by the other after <c>kill -9</c>.
/// </summary>
[Trait("Category", "Aot")]
[Collection(EndToEndCollection.Name)]
public sealed class AotPostgreSqlTests(AotPublishFixture publish, PostgresCluster cluster, ITestOutputHelper output) : IClassFixture<PostgresCluster>
{
    private const string ApiKey = "sk-aot-pg-0123456789abcdef";
    private const string Hi = """{"messages":[{"role":"user","content":"hi"}]}""";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly string _schema = "aot" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// The JIT twin of the native host: the IL build output that <c>dotnet publish -r</c> compiled natively (no apphost
    /// under PublishAot; run with <c>dotnet</c>).
    /// </summary>
    private static string JitHost => Path.Combine(RepoPaths.Root, "samples", "Host", "bin", "Release", "net10.0", AotPublishFixture.RuntimeIdentifier, "Compose.Samples.Host.dll");

    [Fact]
    public async Task NativeAndJitReplicas_ShareTheLlmProxyConfiguration_AndTheTickerLease()
    {
        publish.EnsurePublished();
        Assert.True(File.Exists(JitHost), $"{JitHost} (the IL build of the AOT publish) was not found.");
        using var data = new TempDirectory("aot-pg");
        await using var upstream = await FakeUpstream.StartAsync();
        await using var native = await StartAsync(publish.NativeHost, publish.PublishDirectory, "aot-replica", data.Sub("aot"));
        await using var jit = await StartAsync(DotNet.Executable, Path.GetDirectoryName(JitHost)!, "jit-replica", data.Sub("jit"), JitHost);
        RunningServer[] replicas = [native, jit];
        string[] ids = ["aot-replica", "jit-replica"];

        await native.DiagnoseAsync(() => jit.DiagnoseAsync(async () =>
        {
            Assert.Contains("Compose store schema ready", native.Process.Output, StringComparison.Ordinal);

            // Written through the native replica, read through the JIT one ...
            (await native.PostJsonAsync("/api/plugins/llm-proxy/config", Config(upstream.ChatCompletions, "native-model"))).AssertStatus(HttpStatusCode.OK);
            var status = (await jit.GetAsync("/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK);
            Assert.Contains("\"model\":\"native-model\"", status.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKey, status.Body, StringComparison.Ordinal);
            using (var chat = (await jit.PostJsonAsync("/api/plugins/llm-proxy/chat", Hi)).AssertStatus(HttpStatusCode.OK).Json())
            {
                Assert.Equal(FakeUpstream.Answer, chat.RootElement.GetProperty("text").GetString());
            }

            // ... and the other way round.
            (await jit.PostJsonAsync("/api/plugins/llm-proxy/config", Config(upstream.ChatCompletions, "jit-model"))).AssertStatus(HttpStatusCode.OK);
            Assert.Contains("\"model\":\"jit-model\"", (await native.GetAsync("/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK).Body, StringComparison.Ordinal);
            (await native.PostJsonAsync("/api/plugins/llm-proxy/chat", Hi)).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(2, upstream.Requests.Count(r => r.Authorization == $"Bearer {ApiKey}"));

            // One replica holds the ticker's lease, and both catalogs (source-generated JSON) name it.
            var holder = -1;
            await EventuallyAsync(async () =>
            {
                var views = await Task.WhenAll(replicas.Select(LeaseAsync));
                holder = Array.FindIndex(views, v => v.Held);
                return holder >= 0 && views.All(v => v.Holder == ids[holder]) && views[1 - holder].Held == false;
            }, "one replica holds ticker/ticks and both catalogs name it");
            var other = 1 - holder;
            output.WriteLine($"lease holder: {ids[holder]}");

            var clock = Stopwatch.StartNew();
            replicas[holder].Process.Kill();
            await EventuallyAsync(async () => (await LeaseAsync(replicas[other])).Held, "the surviving replica takes the lease");
            output.WriteLine($"takeover by {ids[other]} after kill -9 of {ids[holder]}: {clock.Elapsed.TotalMilliseconds:F0} ms (LeaseCheckInterval 500 ms)");
            Assert.Equal(ids[other], (await LeaseAsync(replicas[other])).Holder);
        }));
    }

    private static string Config(Uri apiUrl, string model)
        => JsonSerializer.Serialize(new Dictionary<string, string> { ["apiUrl"] = apiUrl.ToString(), ["apiKey"] = ApiKey, ["model"] = model });

    private static async Task<(string? Holder, bool Held)> LeaseAsync(RunningServer host)
    {
        using var catalog = (await host.GetAsync("/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
        var ticker = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "ticker");
        if (!ticker.TryGetProperty("runOnce", out var runOnce))
        {
            return (null, false);
        }

        var lease = Assert.Single(runOnce.EnumerateArray());
        return (lease.TryGetProperty("holder", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null, lease.GetProperty("heldByThisReplica").GetBoolean());
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Bound, $"Not within {Bound.TotalSeconds:0}s: {what}");
            await Task.Delay(100);
        }
    }

    private Task<RunningServer> StartAsync(string executable, string directory, string replicaId, string dataRoot, string? assembly = null)
        => RunningServer.StartAsync(
            executable,
            [
                .. assembly is null ? Array.Empty<string>() : [assembly],
                "--Compose:Store:Provider=PostgreSql",
                $"--Compose:Store:ConnectionString={cluster.ConnectionString}",
                $"--Compose:Store:Schema={_schema}",
                $"--Compose:Store:ReplicaId={replicaId}",
                "--Compose:Store:LeaseCheckInterval=00:00:00.5",
                $"--Compose:DataRoot={dataRoot}",
                "--Compose:Plugins:ticker:IntervalMilliseconds=100",
            ],
            directory,
            "/health");
}
