using System.Collections;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Compose.Hosting;

/// <summary>
/// The meter, instruments and activity source of one host's plugin runtime (names in <see cref="ComposeTelemetry"/>).
/// The meter comes from the host's <see cref="IMeterFactory"/> when it has one (so tests and DI-scoped listeners see
/// it), else it is created directly; the activity source is process-wide, as <see cref="ActivitySource"/> is meant to be.
/// </summary>
internal sealed class ComposeInstruments : IDisposable
{
    public static readonly ActivitySource ActivitySource = new(ComposeTelemetry.ActivitySourceName, Version);

    private static readonly string[] StateNames = Enum.GetNames<ServerPluginState>().Select(n => n.ToLowerInvariant()).ToArray();

    private readonly Meter _meter;
    private readonly IMeterFactory? _meterFactory;
    /// <summary>Left in <see cref="_hostingListener"/> by <see cref="Dispose"/>: a never-started listener, so no watch begins after it.</summary>
    private static readonly MeterListener Stopped = new();

    private MeterListener? _hostingListener;
    private Instrument? _requestDuration;
    private Instrument? _activeRequests;
    private volatile bool _watchingHosting;

    public ComposeInstruments(IMeterFactory? meterFactory, ServerPluginCatalog catalog)
    {
        _meterFactory = meterFactory;
        _meter = meterFactory?.Create(new MeterOptions(ComposeTelemetry.MeterName) { Version = Version }) ?? new Meter(ComposeTelemetry.MeterName, Version);
        InitDuration = _meter.CreateHistogram<double>("compose.plugin.init.duration", "s", "Duration of a server plugin's InitAsync, from the call to the end of its task.");
        ExitDuration = _meter.CreateHistogram<double>("compose.plugin.exit.duration", "s", "Duration of a server plugin's ExitAsync at shutdown.");
        Restarts = _meter.CreateCounter<long>("compose.plugin.restarts", "{restart}", "Restarts of a server plugin's crashed hosted services.");
        _meter.CreateObservableUpDownCounter("compose.plugin.state", () => ObserveStates(catalog), "{plugin}", "Composed server plugins per state.");
    }

    /// <summary>
    /// Whether ASP.NET Core's <c>http.server.request.duration</c> or <c>http.server.active_requests</c> of this host may
    /// be collected, so a request can carry an <see cref="Microsoft.AspNetCore.Http.Features.IHttpMetricsTagsFeature"/>.
    /// <see langword="true"/> until <see cref="WatchHostingMetrics"/> has started (and in a host without an
    /// <see cref="IMeterFactory"/>), so no tag is ever missed; afterwards two field reads. It spares every plugin request
    /// the feature lookup that, on Kestrel, walks the request's and then the connection's feature slots when no listener
    /// asked for the metrics (hosting only adds the feature while one of the two instruments is enabled).
    /// </summary>
    public bool HostingMetricsMayBeCollected
        => !_watchingHosting || _requestDuration?.Enabled == true || _activeRequests?.Enabled == true;

    /// <summary>
    /// Starts watching this host's ASP.NET Core hosting instruments (those its <see cref="IMeterFactory"/> created, under
    /// the <c>Microsoft.AspNetCore.Hosting</c> meter). The listener only observes their publication and never enables
    /// them, so it changes nothing that other listeners see and costs nothing per measurement. Called once the host has
    /// started (the instruments exist by then; one published later is still observed).
    /// </summary>
    public void WatchHostingMetrics()
    {
        if (_meterFactory is null || Volatile.Read(ref _hostingListener) is not null)
        {
            return;
        }

        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name != "Microsoft.AspNetCore.Hosting" || !ReferenceEquals(instrument.Meter.Scope, _meterFactory))
                {
                    return;
                }

                if (instrument.Name == "http.server.request.duration")
                {
                    _requestDuration = instrument;
                }
                else if (instrument.Name == "http.server.active_requests")
                {
                    _activeRequests = instrument;
                }
            },
        };

        // Once only, and never after Dispose (which leaves the Stopped sentinel): a host stopped before this work item ran
        // must not leave a listener behind.
        if (Interlocked.CompareExchange(ref _hostingListener, listener, null) is not null)
        {
            listener.Dispose();
            return;
        }

        listener.Start();
        if (ReferenceEquals(Volatile.Read(ref _hostingListener), Stopped))
        {
            listener.Dispose(); // Dispose ran between the exchange and Start
            return;
        }

        _watchingHosting = _requestDuration is not null || _activeRequests is not null;
    }

    public static string Version { get; } = typeof(ComposeInstruments).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public Histogram<double> InitDuration { get; }

    public Histogram<double> ExitDuration { get; }

    public Counter<long> Restarts { get; }

    /// <summary>Records a lifecycle step's duration, with its outcome and the failure's type.</summary>
    public static void Record(Histogram<double> histogram, string pluginId, TimeSpan elapsed, string outcome, Exception? exception)
    {
        if (!histogram.Enabled)
        {
            return;
        }

        var tags = new TagList { { ComposeTelemetry.PluginIdTag, pluginId }, { ComposeTelemetry.OutcomeTag, outcome } };
        if (exception is not null)
        {
            tags.Add("error.type", exception.GetType().FullName);
        }

        histogram.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary>Starts a lifecycle activity (<c>compose.plugin.init</c> or <c>compose.plugin.exit</c>) for one plugin, or null when nobody listens.</summary>
    public static Activity? StartLifecycle(string name, ServerPluginDescriptor descriptor, ActivityContext parent)
    {
        var activity = ActivitySource.StartActivity(name, ActivityKind.Internal, parent);
        activity?.SetTag(ComposeTelemetry.PluginIdTag, descriptor.Id);
        return activity;
    }

    /// <summary>Ends a lifecycle activity with its status, and an exception event when it failed.</summary>
    public static void Stop(Activity? activity, string outcome, Exception? exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(ComposeTelemetry.OutcomeTag, outcome);
        if (exception is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
            {
                { "exception.type", exception.GetType().FullName },
                { "exception.message", exception.Message },
                { "exception.stacktrace", exception.ToString() },
            }));
        }
        else if (outcome != "success")
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
        }
        else
        {
            activity.SetStatus(ActivityStatusCode.Ok);
        }

        activity.Stop();
    }

    public void Dispose()
    {
        _watchingHosting = false;
        var listener = Interlocked.Exchange(ref _hostingListener, Stopped);
        if (!ReferenceEquals(listener, Stopped))
        {
            listener?.Dispose(); // a listener disposed while WatchHostingMetrics starts it does not start
        }

        _meter.Dispose();
    }

    private static IEnumerable<Measurement<int>> ObserveStates(ServerPluginCatalog catalog)
    {
        Span<int> counts = stackalloc int[StateNames.Length];
        foreach (var entry in catalog)
        {
            counts[(int)entry.State]++;
        }

        var measurements = new Measurement<int>[StateNames.Length];
        for (var i = 0; i < measurements.Length; i++)
        {
            measurements[i] = new Measurement<int>(counts[i], new KeyValuePair<string, object?>(ComposeTelemetry.StateTag, StateNames[i]));
        }

        return measurements;
    }
}

/// <summary>
/// The log scope of a plugin: <c>PluginId</c> (and <c>PluginRoute</c> for an endpoint), as key/value pairs so structured
/// providers (JSON console, OpenTelemetry) record them as attributes. One immutable instance per plugin or endpoint.
/// </summary>
internal sealed class PluginLogScope(string pluginId, string? route = null) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly string _text = route is null ? $"PluginId:{pluginId}" : $"PluginId:{pluginId} PluginRoute:{route}";

    public int Count => route is null ? 1 : 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new(ComposeTelemetry.PluginIdScopeKey, pluginId),
        1 when route is not null => new(ComposeTelemetry.RouteScopeKey, route),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>
    /// Starts the scope on <paramref name="logger"/> (every logger of the same factory shares it), or returns
    /// <see langword="null"/> when the logger writes nothing at any level: pushing a scope costs two async-local writes,
    /// and a host that logs nothing for the category has no use for it. Mirrors ASP.NET Core's hosting diagnostics,
    /// which push the request scope only when <c>IsEnabled(LogLevel.Critical)</c>.
    /// </summary>
    public IDisposable? Begin(ILogger logger) => logger.IsEnabled(LogLevel.Critical) ? logger.BeginScope(this) : null;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _text;
}
