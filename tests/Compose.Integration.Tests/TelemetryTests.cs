using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Compose.Integration.Tests;

/// <summary>
/// Issue 13: metrics, activities, log scopes and per-plugin health that name the plugin, observed with a MeterListener and
/// an ActivityListener, and exported through the OpenTelemetry SDK's in-memory exporter, over a real Kestrel host.
/// Only the telemetry-* plugins (TelemetryPlugins.cs) are asserted on, as other test classes run hosts in parallel.
/// </summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task InitAndExitDurations_AreRecordedPerPlugin_WithOutcomeAndErrorType_AndStatesAreObservable()
    {
        using var metrics = new ComposeMetricsCapture();
        var host = await PluginHost.StartAsync(["telemetry-a", "telemetry-failing"], configureApp: app => metrics.Start(app.Services));

        var inits = metrics.Measurements("compose.plugin.init.duration");
        var a = Assert.Single(inits, m => m.Tag(ComposeTelemetry.PluginIdTag) == "telemetry-a");
        Assert.Equal("success", a.Tag(ComposeTelemetry.OutcomeTag));
        Assert.InRange(a.Value, 0.045, 30); // InitAsync awaits 50 ms
        Assert.Null(a.Tag("error.type"));
        var failing = Assert.Single(inits, m => m.Tag(ComposeTelemetry.PluginIdTag) == "telemetry-failing");
        Assert.Equal("failure", failing.Tag(ComposeTelemetry.OutcomeTag));
        Assert.Equal(typeof(TimeZoneNotFoundException).FullName, failing.Tag("error.type"));
        Assert.Equal("s", metrics.Unit("compose.plugin.init.duration"));

        metrics.RecordObservables();
        var states = metrics.Measurements("compose.plugin.state").ToDictionary(m => m.Tag(ComposeTelemetry.StateTag)!, m => m.Value);
        Assert.Equal(1, states["running"]);
        Assert.Equal(1, states["failed"]);
        Assert.Equal(host.Catalog.Count - 2, states["disabled"]);
        Assert.Equal("{plugin}", metrics.Unit("compose.plugin.state"));

        await host.DisposeAsync();
        var exit = Assert.Single(metrics.Measurements("compose.plugin.exit.duration"), m => m.Tag(ComposeTelemetry.PluginIdTag) == "telemetry-a");
        Assert.Equal("success", exit.Tag(ComposeTelemetry.OutcomeTag));
        Assert.DoesNotContain(metrics.Measurements("compose.plugin.exit.duration"), m => m.Tag(ComposeTelemetry.PluginIdTag) == "telemetry-failing");
    }

    [Fact]
    public async Task RequestDurationOfAspNetCore_CarriesThePluginId_OnlyForPluginRoutes()
    {
        using var metrics = new ComposeMetricsCapture();
        await using var host = await PluginHost.StartAsync(
            ["telemetry-a", "telemetry-b"],
            configureApp: app =>
            {
                metrics.Start(app.Services);
                app.MapGet("/outside", () => "outside");
            });

        Assert.Equal("6", await host.Client.GetStringAsync("/api/plugins/telemetry-a/work/3"));
        Assert.Equal("b", await host.Client.GetStringAsync("/api/plugins/telemetry-b/ping"));
        Assert.Equal("outside", await host.Client.GetStringAsync("/outside"));

        // ASP.NET Core records the duration when the response ends, just after the client has it.
        await WaitUntilAsync(() => metrics.Measurements("http.server.request.duration").Count >= 3);
        var requests = metrics.Measurements("http.server.request.duration");
        Assert.Equal("telemetry-a", Assert.Single(requests, m => m.Tag("http.route") == "/api/plugins/telemetry-a/work/{n:int}").Tag(ComposeTelemetry.PluginIdTag));
        Assert.Equal("telemetry-b", Assert.Single(requests, m => m.Tag("http.route") == "/api/plugins/telemetry-b/ping").Tag(ComposeTelemetry.PluginIdTag));
        Assert.Null(Assert.Single(requests, m => m.Tag("http.route") == "/outside").Tag(ComposeTelemetry.PluginIdTag));
    }

    [Fact]
    public async Task RequestDurationOfAspNetCore_CarriesThePluginId_WhenTheListenerStartsAfterTheHostServed()
    {
        // The runtime skips the metrics-tags feature lookup while nobody collects the hosting metrics; a listener that
        // arrives later must still get the tag on the next request.
        await using var host = await PluginHost.StartAsync(["telemetry-b"]);
        Assert.Equal("b", await host.Client.GetStringAsync("/api/plugins/telemetry-b/ping"));
        var instruments = host.App.Services.GetRequiredService(Type.GetType("Compose.Hosting.ComposeInstruments, Compose.Abstractions", throwOnError: true)!);
        var watching = instruments.GetType().GetField("_watchingHosting", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        await WaitUntilAsync(() => (bool)watching.GetValue(instruments)!);
        Assert.Equal("b", await host.Client.GetStringAsync("/api/plugins/telemetry-b/ping"));

        using var metrics = new ComposeMetricsCapture();
        metrics.Start(host.App.Services);
        Assert.Equal("b", await host.Client.GetStringAsync("/api/plugins/telemetry-b/ping"));

        await WaitUntilAsync(() => metrics.Measurements("http.server.request.duration").Count >= 1);
        Assert.All(metrics.Measurements("http.server.request.duration"), m => Assert.Equal("telemetry-b", m.Tag(ComposeTelemetry.PluginIdTag)));
    }

    [Fact]
    public async Task InitActivities_AreChildrenOfTheStartUpSpan_WithStatusAndExceptionEvent_AndRequestsAreTagged()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is ComposeTelemetry.ActivitySourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var host = await PluginHost.StartAsync(["telemetry-a", "telemetry-failing"]);
        var traceId = ActivityTraceId.CreateRandom();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/plugins/telemetry-a/work/5"))
        {
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            (await host.Client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        await host.DisposeAsync();

        var a = Assert.Single(activities, x => x.OperationName == "compose.plugin.init" && Equals(x.GetTagItem(ComposeTelemetry.PluginIdTag), "telemetry-a"));
        Assert.Equal(ActivityStatusCode.Ok, a.Status);
        Assert.Equal(ActivityKind.Internal, a.Kind);
        var startUp = Assert.Single(activities, x => x.OperationName == "compose.plugins.init" && x.SpanId == a.ParentSpanId);
        var failing = Assert.Single(activities, x => x.OperationName == "compose.plugin.init" && Equals(x.GetTagItem(ComposeTelemetry.PluginIdTag), "telemetry-failing"));
        Assert.Equal(ActivityStatusCode.Error, failing.Status);
        Assert.Equal(startUp.SpanId, failing.ParentSpanId);
        var exception = Assert.Single(failing.Events, e => e.Name == "exception");
        Assert.Contains(exception.Tags, t => t.Key == "exception.type" && Equals(t.Value, typeof(TimeZoneNotFoundException).FullName));

        var exit = Assert.Single(activities, x => x.OperationName == "compose.plugin.exit" && Equals(x.GetTagItem(ComposeTelemetry.PluginIdTag), "telemetry-a"));
        Assert.Equal("compose.plugins.exit", activities.Single(x => x.SpanId == exit.ParentSpanId).OperationName);

        var served = Assert.Single(activities, x => x.Source.Name == "Microsoft.AspNetCore" && x.TraceId == traceId);
        Assert.Equal("telemetry-a", served.GetTagItem(ComposeTelemetry.PluginIdTag));
    }

    [Fact]
    public async Task LogsWrittenByAPlugin_InItsHandler_InitAsync_ExitAsync_AndHostedService_CarryItsId()
    {
        var host = await PluginHost.StartAsync(["telemetry-a", "probe"]);
        Assert.Equal("8", await host.Client.GetStringAsync("/api/plugins/telemetry-a/work/4"));
        await WaitUntilAsync(() => host.Logs.Entries.Any(e => e.Message == "telemetry-a worker running"));
        await host.DisposeAsync();

        foreach (var message in new[] { "telemetry-a handled 4", "telemetry-a initialized", "telemetry-a exiting", "telemetry-a worker running" })
        {
            var entry = Assert.Single(host.Logs.Entries, e => e.Message == message);
            Assert.True(entry.Scope.TryGetValue(ComposeTelemetry.PluginIdScopeKey, out var id), $"'{message}' has no PluginId scope: {string.Join(", ", entry.Scope.Keys)}");
            Assert.Equal("telemetry-a", id);
        }

        Assert.Equal("/api/plugins/telemetry-a/work/{n:int}", Assert.Single(host.Logs.Entries, e => e.Message == "telemetry-a handled 4").Scope[ComposeTelemetry.RouteScopeKey]);

        // Nothing outside a plugin carries the scope.
        Assert.DoesNotContain(host.Logs.Entries, e => e.Category == "Microsoft.Hosting.Lifetime" && e.Scope.ContainsKey(ComposeTelemetry.PluginIdScopeKey));
    }

    [Fact]
    public async Task EachPluginHasItsOwnHealthCheck_BesideTheAggregate()
    {
        await using var host = await PluginHost.StartAsync(["telemetry-a", "telemetry-failing"]);
        var health = host.App.Services.GetRequiredService<HealthCheckService>();

        var perPlugin = await health.CheckHealthAsync(r => r.Tags.Contains("compose-plugin"));
        Assert.Equal(HealthStatus.Healthy, perPlugin.Entries["server-plugins:telemetry-a"].Status);
        Assert.Equal(HealthStatus.Unhealthy, perPlugin.Entries["server-plugins:telemetry-failing"].Status);
        Assert.Equal(HealthStatus.Healthy, perPlugin.Entries["server-plugins:probe"].Status); // disabled here: switched off is healthy
        Assert.DoesNotContain("server-plugins", perPlugin.Entries.Keys);

        var aggregate = await health.CheckHealthAsync(r => r.Tags.Contains("compose"));
        Assert.Equal(["server-plugins"], aggregate.Entries.Keys);
    }

    [Fact]
    public async Task TheOpenTelemetrySdk_ExportsPluginMetricsAndSpans_WithTheirTagsAndUnits()
    {
        var exportedMetrics = new List<Metric>();
        var exportedSpans = new List<Activity>();
        var host = await PluginHost.StartAsync(
            ["telemetry-a", "telemetry-b"],
            configureBuilder: builder => builder.Services.AddOpenTelemetry()
                .WithMetrics(m => m.AddMeter(ComposeTelemetry.MeterName).AddAspNetCoreInstrumentation().AddInMemoryExporter(exportedMetrics))
                .WithTracing(t => t.AddSource(ComposeTelemetry.ActivitySourceName).AddAspNetCoreInstrumentation().AddInMemoryExporter(exportedSpans)));
        Assert.Equal("2", await host.Client.GetStringAsync("/api/plugins/telemetry-a/work/1"));
        Assert.Equal("b", await host.Client.GetStringAsync("/api/plugins/telemetry-b/ping"));
        await Task.Delay(200); // the request duration is recorded as the response ends
        host.App.Services.GetRequiredService<MeterProvider>().ForceFlush();
        host.App.Services.GetRequiredService<TracerProvider>().ForceFlush();

        // The SDK listens to every meter named Compose in the process (other test classes run hosts in parallel, each
        // with its own), so look through every exported stream of the instrument. Those hosts' requests keep ending while
        // this test reads, and the in-memory exporters append from their threads: read snapshots.
        var metrics = Snapshot(exportedMetrics);
        var spans = Snapshot(exportedSpans);
        var inits = metrics.Where(m => m.Name == "compose.plugin.init.duration").ToList();
        Assert.All(inits, m => Assert.Equal(("s", MetricType.Histogram), (m.Unit, m.MetricType)));
        Assert.Contains(inits.SelectMany(Points), p => Tags(p).GetValueOrDefault(ComposeTelemetry.PluginIdTag) == "telemetry-a" && Tags(p).GetValueOrDefault(ComposeTelemetry.OutcomeTag) == "success");

        var plugins = metrics.Where(m => m.Name == "http.server.request.duration").SelectMany(Points).Select(p => Tags(p).GetValueOrDefault(ComposeTelemetry.PluginIdTag)).ToHashSet();
        Assert.Contains("telemetry-a", plugins);
        Assert.Contains("telemetry-b", plugins);

        Assert.Contains(spans, s => s.OperationName == "compose.plugin.init" && Equals(s.GetTagItem(ComposeTelemetry.PluginIdTag), "telemetry-b"));
        Assert.Contains(spans, s => s.Source.Name == "Microsoft.AspNetCore" && Equals(s.GetTagItem(ComposeTelemetry.PluginIdTag), "telemetry-b"));
        await host.DisposeAsync();

        // List.ToArray does not check for concurrent changes, but can throw when the list grows between its reads of
        // the count; a slot being written may still read null.
        static List<T> Snapshot<T>(List<T> list)
            where T : class
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return [.. list.ToArray().Where(item => item is not null)];
                }
                catch (ArgumentException) when (attempt < 100)
                {
                }
            }
        }

        static List<MetricPoint> Points(Metric metric)
        {
            var points = new List<MetricPoint>();
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                points.Add(point);
            }

            return points;
        }

        static Dictionary<string, string?> Tags(MetricPoint point)
        {
            var tags = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var tag in point.Tags)
            {
                tags[tag.Key] = tag.Value?.ToString();
            }

            return tags;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 10 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>A MeterListener on one host's meters (those its IMeterFactory created), so parallel hosts do not mix in.</summary>
    private sealed class ComposeMetricsCapture : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();
        private readonly ConcurrentDictionary<string, string?> _units = new();

        public void Start(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name is ComposeTelemetry.MeterName or "Microsoft.AspNetCore.Hosting")
                {
                    _units[instrument.Name] = instrument.Unit;
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.SetMeasurementEventCallback<int>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => _measurements.Enqueue((i.Name, v, t.ToArray())));
            _listener.Start();
        }

        public void RecordObservables() => _listener.RecordObservableInstruments();

        public string? Unit(string instrument) => _units.GetValueOrDefault(instrument);

        public List<Measured> Measurements(string instrument)
            => _measurements.Where(m => m.Instrument == instrument).Select(m => new Measured(m.Value, m.Tags)).ToList();

        public void Dispose() => _listener.Dispose();
    }

    private sealed record Measured(double Value, KeyValuePair<string, object?>[] Tags)
    {
        public string? Tag(string key) => Tags.FirstOrDefault(t => t.Key == key).Value?.ToString();
    }
}
