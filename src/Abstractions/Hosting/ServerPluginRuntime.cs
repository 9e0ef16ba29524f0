using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Compose.Hosting;

/// <summary>
/// The composed plugins of one host and their lifecycle: init at map time, await at start, switch on and off on
/// configuration reload, exit at stop.
/// </summary>
internal sealed class ServerPluginRuntime(
    ComposeOptions options,
    IConfigurationSection composeSection,
    ServerPluginCatalog catalog,
    IReadOnlyList<(PluginInstance Plugin, ServerPluginEntry Entry)> enabled,
    IReadOnlyList<string> unknownSections,
    ILogger logger,
    TimeSpan hostShutdownTimeout,
    ComposeInstruments instruments,
    IEnumerable<ServiceDescriptor> registrations) : IDisposable, IAsyncDisposable
{
    private readonly List<ActivePlugin> _active = new(enabled.Count);
    private readonly object _rootLock = new();
    private readonly SemaphoreSlim _codeUpdates = new(1, 1);
    private readonly TaskCompletionSource<bool> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _exiting;
    private IServiceProvider? _services;
    private CancellationToken _stopping;
    private IDisposable? _reloadSubscription;
    private Activity? _initActivity;
    private RouteGroupBuilder? _root;
    private IEndpointRouteBuilder? _rootBuilder;
    private int _mapped;

    public ServerPluginCatalog Catalog => catalog;

    public string RoutePrefix => options.RoutePrefix;

    public string AssetsPrefix => options.AssetsPrefix;

    public ComposeOptions Options => options;

    public bool IsMapped => Volatile.Read(ref _mapped) == 1;

    /// <summary>How often the start-up wait logs the plugins still initialising.</summary>
    internal static TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Returns the group every Compose endpoint hangs from (plugin routes and, unless
    /// <see cref="ComposeOptions.ShareConventions"/> is off, the catalog and the web assets), creating it on
    /// <paramref name="endpoints"/> at the first call. It has an empty prefix: conventions added to it reach all of them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The group was created on another route builder.</exception>
    public RouteGroupBuilder Root(IEndpointRouteBuilder endpoints, string caller)
    {
        lock (_rootLock)
        {
            if (_root is null)
            {
                _root = endpoints.MapGroup(string.Empty);
                _rootBuilder = endpoints;
            }
            else if (!ReferenceEquals(_rootBuilder, endpoints))
            {
                throw new InvalidOperationException(
                    $"{caller} was called on a different route builder than MapServerPlugins/MapServerPluginCatalog before it. The conventions of MapServerPlugins() " +
                    "cover the catalog and the plugins' web assets only when all are mapped on the same builder; map them together, or set Compose:ShareConventions=false " +
                    "to map the catalog and the assets on their own (then add conventions such as RequireAuthorization() to each).");
            }

            return _root;
        }
    }

    public RouteGroupBuilder Map(IEndpointRouteBuilder endpoints)
    {
        if (Interlocked.Exchange(ref _mapped, 1) == 1)
        {
            throw new InvalidOperationException("MapServerPlugins was already called; call it once.");
        }

        var services = endpoints.ServiceProvider;
        var stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        (_services, _stopping) = (services, stopping);
        var development = services.GetService<IHostEnvironment>()?.IsDevelopment() == true;
        var root = Root(endpoints, "MapServerPlugins");
        var pluginsSection = composeSection.GetSection("Plugins");
        var configured = PluginSettings.ConfiguredIds(pluginsSection);
        var previousActivity = Activity.Current;
        _initActivity = ComposeInstruments.ActivitySource.StartActivity("compose.plugins.init");
        var initParent = _initActivity?.Context ?? default;
        var byId = new Dictionary<string, ActivePlugin>(enabled.Count, StringComparer.Ordinal); // reference values: no new generic code under Native AOT
        foreach (var (instance, entry) in enabled)
        {
            var descriptor = instance.Registration.Descriptor;

            var (pluginEndpoints, group) = CreateGroup(endpoints, descriptor, pluginsSection, configured);
            var guard = new PluginEndpointGuard(descriptor, logger, handleExceptions: options.HandleExceptions && !development, instruments);
            var dataSource = new PluginEndpointDataSource(entry, (IReadOnlyList<EndpointDataSource>)pluginEndpoints.DataSources, group, guard);
            ((IEndpointRouteBuilder)root).DataSources.Add(dataSource);
            var assets = MapWebAssets(endpoints, descriptor, entry, guard);

            var active = new ActivePlugin(instance, entry, dataSource, assets, CancellationTokenSource.CreateLinkedTokenSource(stopping), group);
            instance.HostedServices.Failed = () => OnFailedAtRunTime(active);
            instance.HostedServices.Instruments = instruments;
            entry.SetState(ServerPluginState.Initializing);
            if (descriptor.DependsOn.Count > 0)
            {
                active.Dependencies = DependenciesOf(descriptor, byId);
            }

            active.Position = _active.Count;
            byId.Add(descriptor.Id, active);
            foreach (var dependency in active.Dependencies)
            {
                dependency.Dependents.Add(active);
            }

            _active.Add(active);
        }

        // Before any InitAsync: every constructor parameter must be provided, and not scoped (a captive dependency).
        var constructors = new ConstructorCheck(services, registrations, catalog);
        foreach (var active in _active)
        {
            active.ConstructorProblem = constructors.Problem(active.Registration);
        }

        // Plugins without dependencies initialise now, on this thread; a dependent once all its dependencies are
        // Running (so independent chains initialise concurrently and start-up is bounded by the longest chain).
        foreach (var active in _active)
        {
            if (active.Dependencies.Length == 0)
            {
                Launch(active, services, initParent);
            }
            else
            {
                _ = LaunchAfterDependenciesAsync(active, services, initParent);
            }
        }

        Activity.Current = previousActivity;

        // Off the start-up path: the hosting instruments exist once the server has started.
        services.GetService<IHostApplicationLifetime>()?.ApplicationStarted.Register(
            static state => ThreadPool.UnsafeQueueUserWorkItem(static i => i.WatchHostingMetrics(), (ComposeInstruments)state!, preferLocal: false),
            instruments);
        _reloadSubscription = ChangeToken.OnChange(composeSection.GetReloadToken, ApplyConfiguration);
        PluginHotReload.Track(this);
        return root;
    }

    /// <summary>
    /// The enabled plugins among <paramref name="descriptor"/>'s <c>DependsOn</c>, each once, in the order they were enabled
    /// (dependencies before dependents): looked up by id, so mapping N plugins stays O(N) however many declare dependencies.
    /// A dependency that is not enabled here is not waited for (the catalog disabled the dependent already).
    /// </summary>
    private static ActivePlugin[] DependenciesOf(ServerPluginDescriptor descriptor, Dictionary<string, ActivePlugin> byId)
    {
        var found = new List<ActivePlugin>(descriptor.DependsOn.Count);
        foreach (var id in descriptor.DependsOn)
        {
            if (byId.TryGetValue(id, out var dependency) && !found.Contains(dependency))
            {
                found.Add(dependency);
            }
        }

        found.Sort(static (a, b) => a.Position.CompareTo(b.Position));
        return [.. found];
    }

    /// <summary>
    /// Creates the plugin's route group <c>{RoutePrefix}/{id}</c> with its tags and its <c>AuthorizationPolicy</c>, on a
    /// private builder: its endpoints reach routing only through the plugin's data source (which maps the catch-all that
    /// answers 503 in it if the plugin fails).
    /// </summary>
    private (PluginEndpointsBuilder Builder, RouteGroupBuilder Group) CreateGroup(
        IEndpointRouteBuilder endpoints, ServerPluginDescriptor descriptor, IConfigurationSection pluginsSection, HashSet<string> configured)
    {
        var builder = new PluginEndpointsBuilder(endpoints);
        var group = builder.MapGroup(options.RoutePrefix.TrimEnd('/') + "/" + descriptor.Id).WithTags(descriptor.Name);
        if (configured.Contains(descriptor.Id) && PluginSettings.AuthorizationPolicy(pluginsSection.GetSection(descriptor.Id)) is { } policy)
        {
            RequirePolicy(group, policy);
        }

        return (builder, group);
    }

    /// <summary>
    /// Applies a plugin's <c>AuthorizationPolicy</c> setting. A method of its own, so that compiling <see cref="CreateGroup"/> does
    /// not load Microsoft.AspNetCore.Authorization.Policy in a host where no plugin has a policy (a start-up cost).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void RequirePolicy(RouteGroupBuilder group, string policy) => group.RequireAuthorization(policy);

    /// <summary>
    /// Calls the plugin's constructor and <see cref="IServerPlugin.InitAsync"/> on this thread, with its route group open
    /// until the synchronous part returns, inside its log scope and <c>compose.plugin.init</c> activity.
    /// </summary>
    private void Launch(ActivePlugin active, IServiceProvider services, ActivityContext initParent)
    {
        var previousActivity = Activity.Current;
        var descriptor = active.Registration.Descriptor;
        var router = new PluginRouteBuilder(active.Group, descriptor);

        // The plugin's activity and log scope flow into InitAsync's continuations; the caller gets neither back.
        active.InitActivity = ComposeInstruments.StartLifecycle("compose.plugin.init", descriptor, initParent);
        var scope = active.LogScope.Begin(logger);
        active.InitStarted = Stopwatch.GetTimestamp();
        active.InitStartedUtc = DateTimeOffset.UtcNow;
        try
        {
            if (active.ConstructorProblem is { } problem)
            {
                throw new InvalidOperationException(problem);
            }

            var plugin = active.Plugin.GetOrCreate(services);
            active.Instance = plugin;
            active.InitTask = plugin.InitAsync(router, active.Lifetime.Token) ?? Task.CompletedTask;
        }
        catch (Exception ex)
        {
            // A constructor or a synchronous InitAsync that throws fails this plugin, not the host.
            active.InitTask = Task.FromException(ex);
        }
        finally
        {
            router.Close();
            scope?.Dispose();
            Activity.Current = previousActivity;
        }

        active.TrackInitEnd();
        active.Launched.TrySetResult(null);
    }

    /// <summary>Launches a dependent once every dependency settled: Running launches it, anything else fails it with the reason.</summary>
    private async Task LaunchAfterDependenciesAsync(ActivePlugin active, IServiceProvider services, ActivityContext initParent)
    {
        foreach (var dependency in active.Dependencies)
        {
            if (!await dependency.Settled.Task.ConfigureAwait(false))
            {
                active.Launched.TrySetResult(dependency.Registration.Descriptor.Id);
                return;
            }
        }

        try
        {
            Launch(active, services, initParent);
            active.NotifyChanged(); // routing may have read the group before its routes were mapped
        }
        catch (Exception ex)
        {
            active.InitTask = Task.FromException(ex);
            active.Launched.TrySetResult(null);
        }
    }

    /// <summary>A plugin failed after start-up (its hosted services crashed too often): its dependents fail with it.</summary>
    private void OnFailedAtRunTime(ActivePlugin failed)
    {
        failed.NotifyChanged();
        foreach (var dependent in failed.Dependents)
        {
            if (dependent.Entry.LifecycleState is ServerPluginState.Failed or ServerPluginState.Stopped)
            {
                continue;
            }

            FailBecauseOf(dependent, failed.Registration.Descriptor.Id);
            Log.DependencyFailed(logger, dependent.Registration.Descriptor.Id, failed.Registration.Descriptor.Id);
            _ = dependent.Plugin.HostedServices.StopAllAsync(CancellationToken.None);
            OnFailedAtRunTime(dependent);
        }
    }

    private static void FailBecauseOf(ActivePlugin dependent, string dependencyId)
    {
        var descriptor = dependent.Registration.Descriptor;
        dependent.Entry.SetFailed(
            $"depends on '{dependencyId}', which failed",
            $"Server plugin '{descriptor.Id}' ({descriptor.Name}) is not serving requests: it depends on server plugin '{dependencyId}', which failed.");
    }

    /// <summary>
    /// Awaits every plugin's initialisation, each bounded by its <see cref="ComposeOptions.InitTimeout"/> counted from
    /// its <c>InitAsync</c> call, logging every <see cref="ProgressInterval"/> the plugins still initialising. One
    /// plugin's failure or time-out is logged and isolated (or fatal with FailFast, as soon as it happens).
    /// </summary>
    public async Task AwaitInitializationAsync(CancellationToken cancellationToken)
    {
        var started = false;
        try
        {
            await AwaitInitializationCoreAsync(cancellationToken).ConfigureAwait(false);
            started = true;
        }
        finally
        {
            // Code updates (hot reload) wait for this: they re-initialise plugins of a host that has started.
            _started.TrySetResult(started);
        }
    }

    private async Task AwaitInitializationCoreAsync(CancellationToken cancellationToken)
    {
        foreach (var key in unknownSections)
        {
            Log.UnknownPluginSection(logger, key, string.Join(", ", catalog.Select(e => e.Descriptor.Id)));
        }

        foreach (var entry in catalog)
        {
            if (entry.Reason is { } reason)
            {
                Log.DisabledByDependency(logger, entry.Descriptor.Id, reason);
            }
        }

        if (!IsMapped)
        {
            if (enabled.Count > 0)
            {
                Log.NotMapped(logger, enabled.Count);
            }

            return;
        }

        var fatal = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var all = Task.WhenAll(_active.Select(plugin => ObserveInitializationAsync(plugin, fatal, cancellationToken)));
        while (true)
        {
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var progress = Task.Delay(ProgressInterval, tick.Token);
            var first = await Task.WhenAny(fatal.Task, all, progress).ConfigureAwait(false);
            tick.Cancel();
            if (first == fatal.Task)
            {
                _initActivity?.SetStatus(ActivityStatusCode.Error, fatal.Task.Result.Message);
                _initActivity?.Stop();
                throw fatal.Task.Result;
            }

            if (first == all)
            {
                await all.ConfigureAwait(false);
                _initActivity?.Stop();
                if (fatal.Task.IsCompleted)
                {
                    throw fatal.Task.Result;
                }

                return;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var waiting = _active.Where(p => p.Entry.LifecycleState == ServerPluginState.Initializing).Select(p => p.Registration.Descriptor.Id).ToList();
            if (waiting.Count > 0)
            {
                Log.StillInitializing(logger, waiting.Count, string.Join(", ", waiting));
            }
        }
    }

    private async Task ObserveInitializationAsync(ActivePlugin plugin, TaskCompletionSource<Exception> fatal, CancellationToken cancellationToken)
    {
        var descriptor = plugin.Registration.Descriptor;
        var timeout = plugin.InitTimeout;

        // A dependent is launched once its dependencies settled (each bounded by its own InitTimeout); its bound starts then.
        if (await plugin.Launched.Task.WaitAsync(cancellationToken).ConfigureAwait(false) is { } failedDependency)
        {
            FailBecauseOf(plugin, failedDependency);
            plugin.NotifyChanged();
            Log.DependencyFailed(logger, descriptor.Id, failedDependency);
            plugin.Settled.TrySetResult(false);
            if (options.FailFast)
            {
                fatal.TrySetResult(new InvalidOperationException(
                    $"Server plugin '{descriptor.Id}' ({descriptor.Name}) depends on '{failedDependency}', which failed, and Compose:FailFast is set, so the host does not start."));
            }

            return;
        }

        var remaining = timeout - Stopwatch.GetElapsedTime(plugin.InitStarted);
        try
        {
            await plugin.InitTask.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            plugin.Initialized = true;
            if (plugin.Entry.LifecycleState == ServerPluginState.Initializing)
            {
                plugin.Entry.SetState(ServerPluginState.Running);
            }

            Log.Loaded(logger, descriptor.Name, descriptor.Id);
            plugin.EndInit("success", null);
            plugin.Settled.TrySetResult(true);
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            plugin.Settled.TrySetResult(false);
            throw;
        }
        catch (TimeoutException)
        {
            plugin.Settled.TrySetResult(false);
            var message = $"did not finish InitAsync within {timeout:c}";
            Fail(plugin, message, "did not finish initializing in time");
            Log.InitTimedOut(logger, descriptor.Id, descriptor.Name, timeout);
            plugin.EndInit("timeout", null);
            await plugin.Lifetime.CancelAsync().ConfigureAwait(false);
            _ = plugin.InitTask.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (options.FailFast)
            {
                fatal.TrySetResult(new InvalidOperationException(
                    $"Server plugin '{descriptor.Id}' ({descriptor.Name}) {message} and Compose:FailFast is set, so the host does not start."));
            }
        }
        catch (Exception ex)
        {
            plugin.Settled.TrySetResult(false);
            Fail(plugin, ex.Message, "failed to initialize");
            Log.InitFailed(logger, ex, descriptor.Id, descriptor.Name, ex.Message);
            plugin.EndInit("failure", ex);
            if (options.FailFast)
            {
                fatal.TrySetResult(new InvalidOperationException(
                    $"Server plugin '{descriptor.Id}' ({descriptor.Name}) failed to initialize and Compose:FailFast is set, so the host does not start: {ex.Message}",
                    ex));
            }
        }
    }

    /// <summary>
    /// Records <c>compose.plugin.init.duration</c> for every plugin, and the start-up spans after the fact, with their
    /// real start and end times, when nobody listened to the
    /// <c>Compose</c> activity source while the plugins initialised but somebody does now: the OpenTelemetry SDK builds
    /// its tracer provider in a hosted service's <c>StartAsync</c>, after <c>MapServerPlugins()</c> has called every
    /// <c>InitAsync</c>. Called once the host has started.
    /// </summary>
    public void RecordInitTelemetry()
    {
        // Durations are recorded now, not as each plugin settles, for the same reason: a meter provider built when the
        // host starts would miss them. Every plugin has settled once the host has started.
        foreach (var plugin in _active)
        {
            if (plugin.InitOutcome is { } outcome)
            {
                ComposeInstruments.Record(
                    instruments.InitDuration,
                    plugin.Registration.Descriptor.Id,
                    outcome == "timeout" ? plugin.InitTimeout : plugin.InitElapsed,
                    outcome,
                    plugin.InitError);
            }
        }

        if (_initActivity is not null || _active.Count == 0 || !ComposeInstruments.ActivitySource.HasListeners())
        {
            return;
        }

        var previous = Activity.Current;
        var launched = _active.Where(p => p.InitStarted != 0).ToList();
        if (launched.Count == 0)
        {
            return;
        }

        var start = launched.Min(p => p.InitStartedUtc);
        var parent = ComposeInstruments.ActivitySource.StartActivity("compose.plugins.init", ActivityKind.Internal, default(ActivityContext), startTime: start);
        if (parent is null)
        {
            return;
        }

        var end = start;
        foreach (var plugin in launched)
        {
            var ended = plugin.InitStartedUtc + (plugin.InitOutcome == "timeout" ? plugin.InitTimeout : plugin.InitElapsed);
            end = ended > end ? ended : end;
            var activity = ComposeInstruments.ActivitySource.StartActivity(
                "compose.plugin.init",
                ActivityKind.Internal,
                parent.Context,
                [new(ComposeTelemetry.PluginIdTag, plugin.Registration.Descriptor.Id)],
                startTime: plugin.InitStartedUtc);
            activity?.SetEndTime(ended.UtcDateTime);
            ComposeInstruments.Stop(activity, plugin.InitOutcome ?? "success", plugin.InitError);
        }

        parent.SetEndTime(end.UtcDateTime);
        parent.Stop();
        Activity.Current = previous;
    }

    private static void Fail(ActivePlugin plugin, string error, string what)
    {
        var descriptor = plugin.Registration.Descriptor;
        plugin.Entry.SetFailed(error, $"Server plugin '{descriptor.Id}' ({descriptor.Name}) {what} and is not serving requests.");
        plugin.NotifyChanged();
    }

    /// <summary>
    /// Calls <see cref="IServerPlugin.ExitAsync"/> in reverse order, each on the thread pool (so an implementation that
    /// blocks before returning its task is bounded too) and each bounded by <see cref="ComposeOptions.ExitTimeout"/>
    /// (default: the host's shutdown timeout) and by the host's stop token; failures and time-outs are logged, never
    /// fatal, and never skip the next plugin.
    /// </summary>
    public async Task ExitAsync(CancellationToken cancellationToken)
    {
        _reloadSubscription?.Dispose();
        PluginHotReload.Untrack(this);
        var timeout = options.ExitTimeout ?? hostShutdownTimeout;

        // A code update still re-initialising a plugin finishes first (it was cancelled with the host's stopping token),
        // so the instance that exits is the one that serves; none starts after this.
        _exiting = true;
        var updatesHeld = false;
        try
        {
            updatesHeld = await _codeUpdates.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: exit what there is.
        }

        var previousActivity = Activity.Current;
        using var exitActivity = ComposeInstruments.ActivitySource.StartActivity("compose.plugins.exit");
        var exitParent = exitActivity?.Context ?? default;
        Activity.Current = previousActivity;
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var plugin = _active[i];
            if (await ExitOneAsync(plugin, timeout, exitParent, cancellationToken).ConfigureAwait(false)
                && plugin.Entry.LifecycleState != ServerPluginState.Failed)
            {
                plugin.Entry.SetState(ServerPluginState.Stopped);
            }
        }

        if (updatesHeld)
        {
            _codeUpdates.Release();
        }
    }

    /// <summary>
    /// Signals the plugin's token and calls its <see cref="IServerPlugin.ExitAsync"/> when it initialised, on the thread
    /// pool, bounded by <paramref name="timeout"/> and <paramref name="cancellationToken"/>; a failure or time-out is
    /// logged and recorded, never thrown. At shutdown and before a hot reload initialises the plugin again.
    /// </summary>
    /// <returns>Whether the plugin had initialised (so it is now stopped).</returns>
    private async Task<bool> ExitOneAsync(ActivePlugin plugin, TimeSpan timeout, ActivityContext exitParent, CancellationToken cancellationToken)
    {
        var descriptor = plugin.Registration.Descriptor;
        plugin.Lifetime.Cancel();
        if (plugin.Instance is not { } instance || !plugin.Initialized)
        {
            return false;
        }

        if (!plugin.Registration.HasExitAsync)
        {
            return true;
        }

        var previousActivity = Activity.Current;
        using var exitToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        exitToken.CancelAfter(timeout);
        var token = exitToken.Token;
        var activity = ComposeInstruments.StartLifecycle("compose.plugin.exit", descriptor, exitParent);
        Activity.Current = previousActivity;
        var started = Stopwatch.GetTimestamp();
        var (outcome, error) = ("success", (Exception?)null);
        var invoked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var exit = Task.Run(
                () =>
                {
                    invoked.TrySetResult();
                    Activity.Current = activity;
                    using var scope = plugin.LogScope.Begin(logger);
                    return instance.ExitAsync(token) ?? Task.CompletedTask;
                },
                CancellationToken.None);
            await exit.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && (cancellationToken.IsCancellationRequested || token.IsCancellationRequested)))
        {
            // Out of time (its own bound or the host's): ExitAsync is still called, with its token signalled,
            // but not waited for; a moment for the pool to start it, so every plugin's ExitAsync does run.
            outcome = "timeout";
            Log.ExitTimedOut(logger, descriptor.Id, descriptor.Name, timeout);
            await invoked.Task.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (Exception ex)
        {
            (outcome, error) = ("failure", ex);
            Log.ExitFailed(logger, ex, descriptor.Id, descriptor.Name, ex.Message);
        }

        ComposeInstruments.Record(instruments.ExitDuration, descriptor.Id, Stopwatch.GetElapsedTime(started), outcome, error);
        ComposeInstruments.Stop(activity, outcome, error);
        return true;
    }

    /// <summary>Stops watching configuration and disposes the plugin instances the container did not create, last first.</summary>
    public void Dispose()
    {
        _reloadSubscription?.Dispose();
        for (var i = enabled.Count - 1; i >= 0; i--)
        {
            enabled[i].Plugin.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        _reloadSubscription?.Dispose();
        for (var i = enabled.Count - 1; i >= 0; i--)
        {
            await enabled[i].Plugin.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Applies <c>Compose:Enabled</c> and <c>Compose:Plugins:{id}:Enabled</c> after a configuration reload
    /// (Mattermost's enable/disable without restart): a plugin switched off answers 404 until switched on again.
    /// Its instance and services stay; it is not initialised again.
    /// </summary>
    private void ApplyConfiguration()
    {
        bool global;
        try
        {
            global = ComposeOptions.ReadBoolean(composeSection, nameof(ComposeOptions.Enabled)) ?? true;
        }
        catch (InvalidOperationException ex)
        {
            Log.InvalidReload(logger, ex.Message);
            return;
        }

        var pluginsSection = composeSection.GetSection("Plugins");
        foreach (var plugin in _active)
        {
            var descriptor = plugin.Registration.Descriptor;
            bool on;
            try
            {
                on = global && PluginSettings.IsEnabled(pluginsSection.GetSection(descriptor.Id));
            }
            catch (InvalidOperationException ex)
            {
                Log.InvalidReload(logger, ex.Message);
                continue;
            }

            // A dependent follows its dependencies (in dependency order, so theirs is already decided): it cannot be
            // on while one of them is off.
            if (on && plugin.Dependencies.FirstOrDefault(d => d.Entry.State == ServerPluginState.Disabled) is { } off)
            {
                on = false;
                Log.StaysOffWithDependency(logger, descriptor.Id, off.Registration.Descriptor.Id);
            }

            if (plugin.Entry.SwitchOff(!on))
            {
                plugin.NotifyChanged();
                Log.Switched(logger, descriptor.Id, descriptor.Name, on ? "on" : "off");
                _ = SwitchHostedServicesAsync(plugin, on);
            }
        }
    }

    /// <summary>
    /// Applies a code update (a hot reload by <c>dotnet watch</c> or an IDE) to the plugins it touches: every plugin
    /// whose assembly holds one of <paramref name="updatedTypes"/> (all plugins when null: anything may have changed),
    /// and the dependents that failed with one of them, in dependency order. Each exits (<see cref="IServerPlugin.ExitAsync"/>,
    /// bounded like at shutdown), gets a new instance from its (updated) constructor, runs <see cref="IServerPlugin.InitAsync"/>
    /// on the new code with a fresh route group, and its data source switches to the new routes, the mechanism of the
    /// <c>Enabled</c> switch. Updates run one at a time, after start-up and never once the host stops.
    /// </summary>
    /// <param name="updatedTypes">The types the update changed, as the runtime reports them, or null when unknown.</param>
    /// <returns>A task that completes once every touched plugin has settled (Running or Failed); it never faults.</returns>
    internal async Task ApplyCodeUpdateAsync(Type[]? updatedTypes)
    {
        if (!IsMapped || _exiting)
        {
            return;
        }

        if (updatedTypes?.FirstOrDefault(t => t.IsSubclassOf(typeof(ServerPluginSet))) is { } composition)
        {
            Log.CompositionUpdated(logger, composition.FullName ?? composition.Name);
        }

        var assemblies = updatedTypes?.Select(t => t.Assembly).ToHashSet();
        var touched = _active.Where(a => assemblies is null || assemblies.Contains(a.Registration.Descriptor.PluginType.Assembly)).ToHashSet();
        if (touched.Count == 0)
        {
            return;
        }

        try
        {
            if (!await _started.Task.WaitAsync(_stopping).ConfigureAwait(false))
            {
                return;
            }

            await _codeUpdates.WaitAsync(_stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            // _active is in dependency order: a dependency is initialised again before its dependents.
            foreach (var plugin in _active)
            {
                if (_exiting || _stopping.IsCancellationRequested)
                {
                    return;
                }

                if (touched.Contains(plugin)
                    || (plugin.Entry.LifecycleState == ServerPluginState.Failed && plugin.Dependencies.Any(touched.Contains)))
                {
                    touched.Add(plugin);
                    await ReinitializeAsync(plugin).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The host is stopping: ExitAsync takes it from here.
        }
        catch (Exception ex)
        {
            Log.CodeUpdateFailed(logger, ex, ex.Message);
        }
        finally
        {
            _codeUpdates.Release();
        }
    }

    /// <summary>Exits one plugin and initialises it again on the updated code (see <see cref="ApplyCodeUpdateAsync"/>).</summary>
    private async Task ReinitializeAsync(ActivePlugin plugin)
    {
        var descriptor = plugin.Registration.Descriptor;
        if (plugin.Dependencies.FirstOrDefault(d => d.Entry.LifecycleState is not (ServerPluginState.Running or ServerPluginState.Degraded)) is { } failed)
        {
            // It cannot serve without that dependency: it stays failed (or fails) with the reason.
            plugin.Lifetime.Cancel();
            FailBecauseOf(plugin, failed.Registration.Descriptor.Id);
            plugin.NotifyChanged();
            Log.DependencyFailed(logger, descriptor.Id, failed.Registration.Descriptor.Id);
            return;
        }

        Log.Reinitializing(logger, descriptor.Id, descriptor.Name);
        await ExitOneAsync(plugin, options.ExitTimeout ?? hostShutdownTimeout, default, _stopping).ConfigureAwait(false);
        if (!await plugin.Plugin.RetireAsync().ConfigureAwait(false))
        {
            Log.ReinitializingSameInstance(logger, descriptor.Id, descriptor.PluginType.FullName ?? descriptor.PluginType.Name);
        }

        _stopping.ThrowIfCancellationRequested();
        var pluginsSection = composeSection.GetSection("Plugins");
        var (builder, group) = CreateGroup(_rootBuilder!, descriptor, pluginsSection, PluginSettings.ConfiguredIds(pluginsSection));

        // The old token stays signalled (not disposed): work of the old instance that still watches it must see that.
        plugin.Restart(group, CancellationTokenSource.CreateLinkedTokenSource(_stopping));
        plugin.Entry.SetState(ServerPluginState.Initializing);
        Launch(plugin, _services!, default);

        // The new routes replace the old ones at once; requests already routed finish on the old ones.
        plugin.DataSource.ReplaceSources((IReadOnlyList<EndpointDataSource>)builder.DataSources, group);
        plugin.AssetsDataSource?.NotifyChanged();
        var fatal = new TaskCompletionSource<Exception>(); // FailFast is about start-up: a failed update fails the plugin only
        await ObserveInitializationAsync(plugin, fatal, _stopping).ConfigureAwait(false);
    }

    /// <summary>Stops a switched-off plugin's hosted services, or starts a switched-on plugin's again (bounded like ExitAsync).</summary>
    private async Task SwitchHostedServicesAsync(ActivePlugin plugin, bool on)
    {
        var hosted = plugin.Instance is null ? null : plugin.Plugin.HostedServices;
        if (hosted is null || hosted.Count == 0)
        {
            return;
        }

        using var bound = new CancellationTokenSource(options.ExitTimeout ?? hostShutdownTimeout);
        try
        {
            await (on ? hosted.SwitchOnAsync(bound.Token) : hosted.StopAllAsync(bound.Token)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.HostedServiceStopFailed(logger, ex, plugin.Registration.Descriptor.Id, on ? "(starting)" : "(stopping)", ex.Message);
        }
    }

    /// <summary>
    /// Serves the plugin package's static web assets (Mattermost webapp bundles, Tailchat frontend plugins) at
    /// <c>{AssetsPrefix}/{id}/{path}</c> from the host's web root, where the Razor SDK puts them
    /// (<c>_content/{PackageId}</c>). Through its own data source, so they follow the plugin's state, in the shared
    /// root group unless <see cref="ComposeOptions.ShareConventions"/> is off, so the conventions of MapServerPlugins()
    /// (RequireAuthorization and the like) cover them.
    /// </summary>
    private PluginEndpointDataSource? MapWebAssets(IEndpointRouteBuilder endpoints, ServerPluginDescriptor descriptor, ServerPluginEntry entry, PluginEndpointGuard? guard)
    {
        if (descriptor.WebAssetsPath is null
            || endpoints.ServiceProvider.GetService<Microsoft.AspNetCore.Hosting.IWebHostEnvironment>()?.WebRootFileProvider is not { } webRoot)
        {
            return null;
        }

        var builder = new PluginEndpointsBuilder(endpoints);
        builder.MapGet($"{options.AssetsPrefix.TrimEnd('/')}/{descriptor.Id}/{{**path}}", WebAssets.Serve(webRoot, descriptor.WebAssetsPath))
            .WithDisplayName($"Web assets of server plugin '{descriptor.Id}'")
            .ExcludeFromDescription();
        var dataSource = new PluginEndpointDataSource(entry, (IReadOnlyList<EndpointDataSource>)builder.DataSources, group: null, guard, countsRoutes: false);
        (options.ShareConventions ? ((IEndpointRouteBuilder)Root(endpoints, "MapServerPlugins")).DataSources : endpoints.DataSources).Add(dataSource);
        return dataSource;
    }

    private sealed class ActivePlugin(PluginInstance plugin, ServerPluginEntry entry, PluginEndpointDataSource dataSource, PluginEndpointDataSource? assets, CancellationTokenSource lifetime, RouteGroupBuilder group)
    {
        public PluginInstance Plugin { get; } = plugin;

        /// <summary>Gets the plugin's route group (on its private builder); the router InitAsync receives wraps it.</summary>
        public RouteGroupBuilder Group { get; private set; } = group;

        /// <summary>Gets the data source routing sees the plugin's routes through.</summary>
        public PluginEndpointDataSource DataSource { get; } = dataSource;

        /// <summary>Gets the data source of its web assets, or null.</summary>
        public PluginEndpointDataSource? AssetsDataSource { get; } = assets;

        /// <summary>Gets or sets why its constructor cannot be called (found before any InitAsync ran), or null.</summary>
        public string? ConstructorProblem { get; set; }

        /// <summary>Gets or sets the active plugins it depends on.</summary>
        public ActivePlugin[] Dependencies { get; set; } = [];

        /// <summary>Gets or sets its place among the enabled plugins (dependencies come first).</summary>
        public int Position { get; set; }

        /// <summary>Gets the active plugins that depend on it.</summary>
        public List<ActivePlugin> Dependents { get; } = [];

        /// <summary>Completes when InitAsync was called (null), or with the id of the dependency that failed instead.</summary>
        public TaskCompletionSource<string?> Launched { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes with true once the plugin is Running after InitAsync, false once it failed.</summary>
        public TaskCompletionSource<bool> Settled { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ServerPluginRegistration Registration => Plugin.Registration;

        /// <summary>Gets the source of the token InitAsync received: the host's stopping token, or the plugin's own failure.</summary>
        public CancellationTokenSource Lifetime { get; private set; } = lifetime;

        /// <summary>Prepares a second initialisation after a code update: a new route group and token, nothing initialised yet.</summary>
        public void Restart(RouteGroupBuilder group, CancellationTokenSource lifetime)
        {
            (Group, Lifetime) = (group, lifetime);
            (Launched, Settled) = (new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously));
            (Initialized, Instance, InitTask, InitEnded, InitOutcome, InitError) = (false, null, Task.CompletedTask, 0, null, null);
        }

        public TimeSpan InitTimeout => Plugin.InitTimeout;

        public long InitStarted { get; set; }

        /// <summary>Gets when the InitAsync task ended (a <see cref="Stopwatch"/> timestamp), or 0 while it runs.</summary>
        public long InitEnded { get; private set; }

        /// <summary>Gets InitAsync's duration: to the end of its task, or to now while it runs.</summary>
        public TimeSpan InitElapsed => InitEnded == 0 ? Stopwatch.GetElapsedTime(InitStarted) : Stopwatch.GetElapsedTime(InitStarted, InitEnded);

        public Activity? InitActivity { get; set; }

        public DateTimeOffset InitStartedUtc { get; set; }

        /// <summary>Gets how InitAsync ended (<c>success</c>, <c>failure</c>, <c>timeout</c>), or null while it runs.</summary>
        public string? InitOutcome { get; private set; }

        public Exception? InitError { get; private set; }

        /// <summary>Notes how InitAsync ended and ends its activity, when one was started live.</summary>
        public void EndInit(string outcome, Exception? error)
        {
            (InitOutcome, InitError) = (outcome, error);
            ComposeInstruments.Stop(InitActivity, outcome, error);
        }

        /// <summary>Gets the plugin's log scope (<c>PluginId</c>), pushed around its InitAsync and ExitAsync.</summary>
        public PluginLogScope LogScope { get; } = new(plugin.Registration.Descriptor.Id);

        /// <summary>Notes when the InitAsync task ends, so the recorded duration is the plugin's, not the host's wait.</summary>
        public void TrackInitEnd()
        {
            if (InitTask.IsCompleted)
            {
                InitEnded = Stopwatch.GetTimestamp();
                return;
            }

            InitTask.ContinueWith(
                static (_, state) => ((ActivePlugin)state!).InitEnded = Stopwatch.GetTimestamp(),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        /// <summary>Gets or sets whether InitAsync completed successfully (so ExitAsync is owed).</summary>
        public bool Initialized { get; set; }

        public ServerPluginEntry Entry { get; } = entry;

        public void NotifyChanged()
        {
            DataSource.NotifyChanged();
            AssetsDataSource?.NotifyChanged();
        }

        public IServerPlugin? Instance { get; set; }

        public Task InitTask { get; set; } = Task.CompletedTask;
    }
}
