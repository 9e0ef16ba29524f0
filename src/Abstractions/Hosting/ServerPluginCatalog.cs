using System.Collections;

namespace Compose;

/// <summary>The run-time state of a composed plugin.</summary>
public enum ServerPluginState
{
    /// <summary>
    /// Switched off by configuration (<c>Compose:Enabled</c>, <c>Compose:Plugins:{id}:Enabled</c> or an environment
    /// the plugin is not meant for). Off at start-up: no services, no routes. Switched off while the host runs: its
    /// routes answer 404 until it is switched on again.
    /// </summary>
    Disabled,

    /// <summary>Registered; <c>MapServerPlugins</c> has not run yet.</summary>
    Registered,

    /// <summary><see cref="IServerPlugin.InitAsync"/> was called and its task has not completed.</summary>
    Initializing,

    /// <summary>Initialised; its routes serve requests.</summary>
    Running,

    /// <summary>
    /// Not serving: its constructor or <see cref="IServerPlugin.InitAsync"/> threw, its <c>InitAsync</c> did not finish
    /// within <c>Compose:InitTimeout</c>, or its hosted services crashed <c>Compose:MaxCrashes</c> times within
    /// <c>Compose:CrashWindow</c> (Mattermost's rule). Every path under its prefix answers 503; see
    /// <see cref="ServerPluginEntry.Error"/>.
    /// </summary>
    Failed,

    /// <summary><see cref="IServerPlugin.ExitAsync"/> has run at shutdown.</summary>
    Stopped,

    /// <summary>
    /// Serving, but one of the hosted services its <c>ConfigureServices</c> registered crashed within
    /// <c>Compose:CrashWindow</c> and was restarted (or is waiting to be); see <see cref="ServerPluginEntry.Error"/>. The
    /// plugin is <see cref="Running"/> again once the window has passed without a crash. The health check reports Degraded.
    /// </summary>
    Degraded,
}

/// <summary>One composed plugin in the <see cref="ServerPluginCatalog"/>: its descriptor and current state.</summary>
public sealed class ServerPluginEntry
{
    private volatile StateBox _state = new(ServerPluginState.Registered, null);
    private volatile bool _switchedOff;
    private int _routeCount;

    internal ServerPluginEntry(ServerPluginDescriptor descriptor, bool enabled)
    {
        Descriptor = descriptor;
        if (!enabled)
        {
            _state = new StateBox(ServerPluginState.Disabled, null);
        }
    }

    /// <summary>Gets the plugin's descriptor (id, name, description, type, assembly, version).</summary>
    public ServerPluginDescriptor Descriptor { get; }

    /// <summary>
    /// Gets why the plugin is disabled when that is not its own configuration, for example
    /// <c>depends on 'bookmarks', which is disabled</c>; otherwise <see langword="null"/>.
    /// </summary>
    public string? Reason { get; internal set; }

    /// <summary>Gets the ids of the composed plugins that depend on this one (the reverse of <see cref="ServerPluginDescriptor.DependsOn"/>).</summary>
    public IReadOnlyList<string> Dependents { get; internal set; } = [];

    /// <summary>Gets the plugin's current state: <see cref="ServerPluginState.Disabled"/> while switched off, else its lifecycle state.</summary>
    public ServerPluginState State => _switchedOff ? ServerPluginState.Disabled : LifecycleState;

    /// <summary>
    /// Gets the reason when the plugin has failed or is degraded (an exception message, which may hold details meant
    /// for operators only: the catalog endpoint shows it in Development only); otherwise <see langword="null"/>.
    /// </summary>
    public string? Error => LifecycleState is ServerPluginState.Failed or ServerPluginState.Degraded ? _state.Error : null;

    /// <summary>
    /// Gets the number of endpoints the plugin registered, counted when routing builds its tables (so 0 until the
    /// host has built them, normally at its first request).
    /// </summary>
    public int RouteCount
    {
        get => Volatile.Read(ref _routeCount);
        internal set => Volatile.Write(ref _routeCount, value);
    }

    /// <summary>
    /// Gets the run-once services the plugin registered (<c>AddRunOnceHostedService</c>), each with the replica that
    /// holds its lease as this replica sees it (see <see cref="Store.RunOnceHostedService.Status"/>); empty for a plugin
    /// without any, and until its hosted services first start.
    /// </summary>
    public IReadOnlyList<Store.RunOnceServiceStatus> RunOnce => RunOnceSource?.Invoke() ?? [];

    /// <summary>Gets or sets where <see cref="RunOnce"/> comes from (the plugin's hosted services).</summary>
    internal Func<IReadOnlyList<Store.RunOnceServiceStatus>>? RunOnceSource { get; set; }

    /// <summary>Gets the state apart from switching: a Degraded state whose crash window has passed reads as Running.</summary>
    internal ServerPluginState LifecycleState
    {
        get
        {
            var box = _state;
            return box.State == ServerPluginState.Degraded && Environment.TickCount64 >= box.Until ? ServerPluginState.Running : box.State;
        }
    }

    /// <summary>Gets the detail of the 503 ProblemDetails a failed plugin answers with (never the exception text).</summary>
    internal string UnavailableDetail => _state.Detail ?? $"Server plugin '{Descriptor.Id}' ({Descriptor.Name}) has failed and is not serving requests.";

    internal void SetState(ServerPluginState state, string? error = null) => _state = new StateBox(state, error);

    /// <summary>Marks the plugin failed; <paramref name="detail"/> is what its 503 responses say (no secrets).</summary>
    internal void SetFailed(string error, string detail) => _state = new StateBox(ServerPluginState.Failed, error) { Detail = detail };

    /// <summary>Marks the plugin degraded until <paramref name="until"/> (an <see cref="Environment.TickCount64"/> value).</summary>
    internal void SetDegraded(string error, long until) => _state = new StateBox(ServerPluginState.Degraded, error) { Until = until };

    /// <summary>Switches a composed plugin off or on; returns whether that changed anything.</summary>
    internal bool SwitchOff(bool off)
    {
        if (_switchedOff == off)
        {
            return false;
        }

        _switchedOff = off;
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Descriptor} {State}";

    private sealed record StateBox(ServerPluginState State, string? Error)
    {
        public string? Detail { get; init; }

        public long Until { get; init; } = long.MaxValue;
    }
}

/// <summary>
/// Every plugin composed into the host, in id order, with its run-time state. Registered as a singleton by
/// <c>AddServerPlugins</c>; inject it to list plugins (as Tailchat's <c>/health</c> and Mattermost's plugin
/// statuses do). It never holds a plugin's settings.
/// </summary>
public sealed class ServerPluginCatalog : IReadOnlyList<ServerPluginEntry>
{
    private readonly ServerPluginEntry[] _entries;
    private readonly Dictionary<string, ServerPluginEntry> _byId;

    internal ServerPluginCatalog(ServerPluginEntry[] entries)
    {
        _entries = entries;
        _byId = new Dictionary<string, ServerPluginEntry>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            _byId.TryAdd(entry.Descriptor.Id, entry); // ids are unique (CMP0002); the first one wins if a hand-made set repeats one
        }

        // Each plugin's dependents in catalog order: one pass over the declared dependencies, not one per plugin.
        Dictionary<string, List<string>>? dependents = null;
        foreach (var entry in entries)
        {
            foreach (var dependency in entry.Descriptor.DependsOn.Distinct(StringComparer.Ordinal))
            {
                dependents ??= new Dictionary<string, List<string>>(StringComparer.Ordinal);
                if (!dependents.TryGetValue(dependency, out var list))
                {
                    dependents[dependency] = list = [];
                }

                list.Add(entry.Descriptor.Id);
            }
        }

        if (dependents is not null)
        {
            foreach (var entry in entries)
            {
                entry.Dependents = dependents.TryGetValue(entry.Descriptor.Id, out var list) ? [.. list] : [];
            }
        }
    }

    /// <summary>
    /// Disables every plugin with a disabled (or not composed) dependency, transitively, recording the reason. The
    /// generated table is in dependency order, so one pass settles it; the loop repeats only for a table that is not.
    /// </summary>
    internal void DisableDependentsOfDisabled()
    {
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var entry in _entries)
            {
                if (entry.LifecycleState == ServerPluginState.Disabled)
                {
                    continue;
                }

                foreach (var dependency in entry.Descriptor.DependsOn)
                {
                    var found = Find(dependency);
                    if (found is null || found.LifecycleState == ServerPluginState.Disabled)
                    {
                        entry.SetState(ServerPluginState.Disabled);
                        entry.Reason = found is null ? $"depends on '{dependency}', which is not composed" : $"depends on '{dependency}', which is disabled";
                        changed = true;
                        break;
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public int Count => _entries.Length;

    /// <inheritdoc/>
    public ServerPluginEntry this[int index] => _entries[index];

    /// <summary>Finds a plugin by id (ordinal comparison).</summary>
    /// <param name="id">The plugin id.</param>
    /// <returns>The entry, or <see langword="null"/> when no composed plugin has that id.</returns>
    public ServerPluginEntry? Find(string id) => id is null ? null : _byId.GetValueOrDefault(id);

    /// <inheritdoc/>
    public IEnumerator<ServerPluginEntry> GetEnumerator() => ((IEnumerable<ServerPluginEntry>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
