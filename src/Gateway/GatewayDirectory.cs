using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Compose.Gateway;

/// <summary>What the gateway last read from one host.</summary>
internal sealed record HostView(
    string Name,
    IReadOnlyList<Uri> Addresses,
    HostCatalogDocument? Catalog,
    string? Error,
    DateTimeOffset? LastRead)
{
    public string RoutePrefix => Trim(Catalog?.RoutePrefix) ?? "/api/plugins";

    public string AssetsPrefix => Trim(Catalog?.AssetsPrefix) ?? "/plugins";

    public string ClusterId => "compose-host-" + Name;

    private static string? Trim(string? prefix) => string.IsNullOrWhiteSpace(prefix) ? null : "/" + prefix.Trim().Trim('/');
}

/// <summary>Everything the gateway knows: hosts, where each plugin runs, and the ids that are ambiguous.</summary>
internal sealed record GatewayView(
    IReadOnlyList<HostView> Hosts,
    IReadOnlyDictionary<string, HostView> RoutedPlugins,
    IReadOnlyDictionary<string, IReadOnlyList<string>> AmbiguousPlugins)
{
    public static readonly GatewayView Empty = new([], new Dictionary<string, HostView>(), new Dictionary<string, IReadOnlyList<string>>());

    /// <summary>Every host reporting <paramref name="pluginId"/>, with its state there.</summary>
    public IEnumerable<(HostView Host, HostCatalogPlugin Plugin)> Placements(string pluginId) =>
        from host in Hosts
        from plugin in host.Catalog?.Plugins ?? []
        where string.Equals(plugin.Id, pluginId, StringComparison.Ordinal)
        select (host, plugin);

    public static GatewayView From(IReadOnlyList<HostView> hosts)
    {
        var running = hosts
            .SelectMany(host => (host.Catalog?.Plugins ?? []).Where(IsRunning).Select(plugin => (plugin.Id, Host: host)))
            .GroupBy(pair => pair.Id, StringComparer.Ordinal);
        var routed = new Dictionary<string, HostView>(StringComparer.Ordinal);
        var ambiguous = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in running)
        {
            var names = group.Select(pair => pair.Host.Name).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
            if (names.Count == 1)
            {
                routed[group.Key] = group.First().Host;
            }
            else
            {
                ambiguous[group.Key] = names;
            }
        }

        return new GatewayView(hosts, routed, ambiguous);
    }

    public static bool IsRunning(HostCatalogPlugin plugin) => string.Equals(plugin.State, "Running", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Reads every host's catalog at start-up, on <see cref="ServerPluginGatewayOptions.RefreshInterval"/> and whenever the
/// options change, and hands YARP the routes and clusters that follow (an <see cref="IProxyConfigProvider"/> whose
/// change token fires on every real change).
/// </summary>
internal sealed class GatewayDirectory : IProxyConfigProvider, IHostedService, IDisposable
{
    internal const string PluginMetadata = "Compose.PluginId";
    internal const string HostMetadata = "Compose.Host";

    private readonly IOptionsMonitor<ServerPluginGatewayOptions> _options;
    private readonly ILogger<GatewayDirectory> _logger;
    private readonly HttpClient _catalogClient;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly IDisposable? _optionsSubscription;
    private readonly CancellationTokenSource _stopping = new();
    private ProxySnapshot _config = new([], [], string.Empty);
    private GatewayView _view = GatewayView.Empty;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HostView> _lastGood = new(StringComparer.OrdinalIgnoreCase);
    private string _ambiguityKey = string.Empty;
    private Task? _loop;
    private int _disposed;

    public GatewayDirectory(IOptionsMonitor<ServerPluginGatewayOptions> options, ILogger<GatewayDirectory> logger)
    {
        _options = options;
        _logger = logger;
        // The catalog client never follows redirects (a credential must not travel to another origin) and keeps no cookies.
        _catalogClient = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _optionsSubscription = options.OnChange(_ => _wake.Release());
    }

    /// <summary>Gets the current view (hosts, routed and ambiguous plugins).</summary>
    public GatewayView View => Volatile.Read(ref _view);

    public IProxyConfig GetConfig() => Volatile.Read(ref _config);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first read happens before the server listens, so routes exist from the first request; it is bounded by
        // CatalogTimeout, and a failure leaves the gateway up with no routes until the next refresh.
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RefreshFailed(_logger, ex);
        }

        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    // The container disposes this instance once per registration it is resolved through (itself, the config provider,
    // the hosted service): only the first call does anything.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _optionsSubscription?.Dispose();
        _stopping.Cancel();
        _stopping.Dispose();
        _catalogClient.Dispose();
        _config.Dispose();
    }

    /// <summary>Reads every host's catalog now and updates the routes; one refresh at a time.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            var options = _options.CurrentValue;
            var hosts = await Task.WhenAll(options.Hosts
                .OrderBy(pair => pair.Key, StringComparer.OrdinalIgnoreCase)
                .Select(pair => ReadHostAsync(pair.Key, pair.Value, options, cancellationToken)));
            // A host removed from the configuration leaves no stale catalog behind for a later host of the same name.
            foreach (var gone in _lastGood.Keys.Where(name => !options.Hosts.ContainsKey(name)).ToList())
            {
                _lastGood.TryRemove(gone, out _);
            }

            var view = GatewayView.From([.. hosts.OfType<HostView>()]);
            Volatile.Write(ref _view, view);
            ReportAmbiguities(view);
            Publish(view, options);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var interval = _options.CurrentValue.RefreshInterval;
            if (interval < TimeSpan.FromSeconds(1))
            {
                interval = TimeSpan.FromSeconds(1);
            }

            try
            {
                await _wake.WaitAsync(interval, stopping);
                await RefreshAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.RefreshFailed(_logger, ex);
            }
        }
    }

    private async Task<HostView?> ReadHostAsync(string name, ServerPluginGatewayHost host, ServerPluginGatewayOptions options, CancellationToken cancellationToken)
    {
        var addresses = new List<Uri>();
        foreach (var address in host.Addresses.Where(address => !string.IsNullOrWhiteSpace(address)))
        {
            if (Uri.TryCreate(address.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                addresses.Add(uri);
            }
            else
            {
                Log.BadAddress(_logger, name, address);
            }
        }

        if (addresses.Count == 0)
        {
            Log.NoAddresses(_logger, name);
            return null;
        }

        var credential = host.CatalogCredential is { Value.Length: > 0 } own ? own : options.CatalogCredential;
        var reads = await Task.WhenAll(addresses.Select(address => ReadCatalogAsync(address, host.CatalogPath, credential, options.CatalogTimeout, cancellationToken)));
        var good = reads.Select((read, index) => (read.Catalog, read.Error, Address: addresses[index])).Where(read => read.Catalog is not null).ToList();
        if (good.Count == 0)
        {
            var error = string.Join("; ", reads.Select((read, index) => $"{addresses[index]}: {read.Error}"));
            Log.HostUnreachable(_logger, name, addresses.Count, error);
            // The last catalog read stays: its routes remain, and the health checks answer for the replicas (503 when none is left).
            var last = _lastGood.GetValueOrDefault(name);
            return new HostView(name, addresses, last?.Catalog, error, last?.LastRead);
        }

        var first = good[0];
        var compositions = good.Select(read => read.Catalog!.Composition ?? "?").Distinct(StringComparer.Ordinal).ToList();
        if (compositions.Count > 1)
        {
            Log.ReplicasDisagree(_logger, name, string.Join(", ", compositions), first.Address.ToString());
        }

        var view = new HostView(name, addresses, first.Catalog, null, DateTimeOffset.UtcNow);
        var previous = _lastGood.GetValueOrDefault(name);
        if (previous?.Catalog?.Composition != view.Catalog?.Composition || previous?.Catalog?.Plugins?.Count(GatewayView.IsRunning) != view.Catalog?.Plugins?.Count(GatewayView.IsRunning))
        {
            Log.HostRead(_logger, name, first.Catalog!.Plugins?.Count(GatewayView.IsRunning) ?? 0, first.Catalog.Composition, first.Address.ToString());
        }

        _lastGood[name] = view;
        return view;
    }

    private async Task<(HostCatalogDocument? Catalog, string? Error)> ReadCatalogAsync(
        Uri address, string catalogPath, ServerPluginGatewayCredential credential, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, "/" + catalogPath.TrimStart('/')));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (!string.IsNullOrEmpty(credential.Value) && !string.IsNullOrWhiteSpace(credential.Header))
            {
                request.Headers.TryAddWithoutValidation(credential.Header, credential.Value);
            }

            using var response = await _catalogClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"{(int)response.StatusCode} {response.ReasonPhrase}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
            var catalog = await JsonSerializer.DeserializeAsync(body, GatewayJsonContext.Default.HostCatalogDocument, deadline.Token);
            if (catalog?.Plugins is null)
            {
                return (null, "the answer is not a Compose catalog (no plugins)");
            }

            // What becomes part of a YARP route template must be a plain path: a malformed catalog routes nothing.
            if (!IsPlainPath(catalog.RoutePrefix) || !IsPlainPath(catalog.AssetsPrefix))
            {
                return (null, "the catalog's route or assets prefix is not a plain path");
            }

            var plugins = catalog.Plugins.Where(plugin => plugin is not null && IsPlainSegment(plugin.Id)).ToList();
            return plugins.Count == catalog.Plugins.Count
                ? (catalog, null)
                : (null, "the catalog names a plugin without a valid id");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {timeout.TotalSeconds:0.#}s");
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.Message);
        }
        catch (JsonException ex)
        {
            return (null, $"the answer is not a Compose catalog ({ex.Message})");
        }
    }

    private static bool IsPlainPath(string? path) =>
        path is null || path.Split('/', StringSplitOptions.RemoveEmptyEntries).All(IsPlainSegment);

    private static bool IsPlainSegment(string? segment) =>
        !string.IsNullOrEmpty(segment) && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && segment is not "." and not "..";

    private void ReportAmbiguities(GatewayView view)
    {
        var key = string.Join('|', view.AmbiguousPlugins.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Key + "=" + string.Join(',', pair.Value)));
        if (key == _ambiguityKey)
        {
            return;
        }

        _ambiguityKey = key;
        foreach (var (id, hosts) in view.AmbiguousPlugins)
        {
            Log.Ambiguous(_logger, id, string.Join(" and ", hosts));
        }
    }

    private void Publish(GatewayView view, ServerPluginGatewayOptions options)
    {
        var health = options.HealthCheck;
        var clusters = view.Hosts.Where(host => host.Catalog is not null).Select(host => new ClusterConfig
        {
            ClusterId = host.ClusterId,
            LoadBalancingPolicy = options.LoadBalancingPolicy,
            Destinations = host.Addresses.Select((address, index) => (address, index))
                .ToDictionary(pair => $"{host.Name}/{pair.index}", pair => new DestinationConfig { Address = pair.address.ToString() }, StringComparer.OrdinalIgnoreCase),
            HealthCheck = new HealthCheckConfig
            {
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = health.Active,
                    Interval = health.Interval,
                    Timeout = health.Timeout,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = "/" + health.Path.TrimStart('/'),
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = health.Passive,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = health.ReactivationPeriod,
                },
            },
            Metadata = new Dictionary<string, string>
            {
                ["ConsecutiveFailuresHealthPolicy.Threshold"] = Math.Max(1, health.ConsecutiveFailures).ToString(System.Globalization.CultureInfo.InvariantCulture),
                [HostMetadata] = host.Name,
            },
        }).ToList();

        var routes = new List<RouteConfig>();
        foreach (var (id, host) in view.RoutedPlugins.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            var metadata = new Dictionary<string, string> { [PluginMetadata] = id, [HostMetadata] = host.Name };
            routes.Add(new RouteConfig
            {
                RouteId = $"compose-plugin-{id}",
                ClusterId = host.ClusterId,
                Match = new RouteMatch { Path = $"{host.RoutePrefix}/{id}/{{**rest}}" },
                Metadata = metadata,
            });
            routes.Add(new RouteConfig
            {
                RouteId = $"compose-assets-{id}",
                ClusterId = host.ClusterId,
                Match = new RouteMatch { Path = $"{host.AssetsPrefix}/{id}/{{**rest}}" },
                Metadata = metadata,
            });
        }

        var signature = JsonSignature(routes, clusters);
        var current = Volatile.Read(ref _config);
        if (signature == current.Signature)
        {
            return;
        }

        var next = new ProxySnapshot(routes, clusters, signature);
        Volatile.Write(ref _config, next);
        Log.RoutesUpdated(_logger, routes.Count, clusters.Count);
        current.SignalChange();
    }

    private static string JsonSignature(IEnumerable<RouteConfig> routes, IEnumerable<ClusterConfig> clusters) =>
        string.Join('\n', routes.Select(route => $"{route.RouteId} {route.ClusterId} {route.Match.Path}")
            .Concat(clusters.Select(cluster => $"{cluster.ClusterId} {cluster.LoadBalancingPolicy} {string.Join(',', cluster.Destinations!.Select(pair => pair.Key + "=" + pair.Value.Address))} "
                + $"{cluster.HealthCheck!.Active!.Enabled} {cluster.HealthCheck.Active.Interval} {cluster.HealthCheck.Active.Timeout} {cluster.HealthCheck.Active.Path} "
                + $"{cluster.HealthCheck.Passive!.Enabled} {cluster.HealthCheck.Passive.ReactivationPeriod} {cluster.Metadata!["ConsecutiveFailuresHealthPolicy.Threshold"]}")));

    private sealed class ProxySnapshot : IProxyConfig, IDisposable
    {
        private readonly CancellationTokenSource _changed = new();

        public ProxySnapshot(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters, string signature)
        {
            Routes = routes;
            Clusters = clusters;
            Signature = signature;
            ChangeToken = new CancellationChangeToken(_changed.Token);
        }

        public IReadOnlyList<RouteConfig> Routes { get; }

        public IReadOnlyList<ClusterConfig> Clusters { get; }

        public IChangeToken ChangeToken { get; }

        public string Signature { get; }

        public void SignalChange() => _changed.Cancel();

        public void Dispose() => _changed.Dispose();
    }
}
