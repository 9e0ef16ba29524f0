using System.Net;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// Issue 13 against the Native AOT publish of samples/Host: with OTEL_EXPORTER_OTLP_ENDPOINT set, the native host exports
/// over OTLP/HTTP to a receiver on 127.0.0.1, and what it sends names the plugin on requests, init, exit and logs.
/// </summary>
[Trait("Category", "Aot")]
[Collection(EndToEndCollection.Name)]
public sealed class AotTelemetryTests(AotPublishFixture publish)
{
    private const string Prefix = "/api/plugins";
    private static readonly TimeSpan ExportPatience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task NativeHost_ExportsMetricsTracesAndLogsNamingThePlugin_OverOtlp()
    {
        publish.EnsurePublished();
        await using var receiver = await OtlpReceiver.StartAsync();
        using var data = new TempDirectory("aot-otlp");
        await using var host = await RunningServer.StartAsync(
            publish.NativeHost,
            [$"--Compose:Plugins:llm-proxy:DataDirectory={data.Path}"],
            publish.PublishDirectory,
            Prefix + "/hello-world/hello",
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            });
        await host.DiagnoseAsync(async () =>
        {
            (await host.GetAsync($"{Prefix}/hello-world/hello")).AssertStatus(HttpStatusCode.OK);
            (await host.GetAsync($"{Prefix}/llm-proxy/status")).AssertStatus(HttpStatusCode.OK);

            // Traces: the start-up spans per plugin, and the request spans tagged with the plugin.
            await receiver.WaitForAsync("traces", ExportPatience, "compose.plugins.init", "compose.plugin.init", "compose.plugin.id", "hello-world", "llm-proxy", "GET /api/plugins/hello-world/hello");

            // Metrics: Compose's own instruments and ASP.NET Core's request duration with the plugin id.
            await receiver.WaitForAsync("metrics", ExportPatience, "compose.plugin.init.duration", "compose.plugin.state", "http.server.request.duration", "compose.plugin.id", "compose.plugin.outcome");

            // Logs: the plugin's own line from InitAsync with the PluginId scope.
            await receiver.WaitForAsync("logs", ExportPatience, "[hello-world] Plugin loaded.", "PluginId");
        });

        // Exit spans go out at shutdown (SIGTERM, then the exporters flush as the host disposes).
        host.Process.Terminate();
        await host.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await receiver.WaitForAsync("traces", ExportPatience, "compose.plugin.exit", "compose.plugins.exit");
    }
}
