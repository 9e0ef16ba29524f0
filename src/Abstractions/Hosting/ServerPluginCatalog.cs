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

    /// <summary>Its constructor or <see cref="IServerPlugin.InitAsync"/> threw; see <see cref="ServerPluginEntry.Error"/>.</summary>
    Failed,

    /// <summary><see cref="IServerPlugin.ExitAsync"/> has run at shutdown.</summary>
    Stopped,
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

    /// <summary>Gets the plugin's current state: <see cref="ServerPluginState.Disabled"/> while switched off, else its lifecycle state.</summary>
    public ServerPluginState State => _switchedOff ? ServerPluginState.Disabled : _state.State;

    /// <summary>Gets the error message when the plugin has failed; otherwise <see langword="null"/>.</summary>
    public string? Error => _state.Error;

    /// <summary>
    /// Gets the number of endpoints the plugin registered, counted when routing builds its tables (so 0 until the
    /// host has built them, normally at its first request).
    /// </summary>
    public int RouteCount
    {
        get => Volatile.Read(ref _routeCount);
        internal set => Volatile.Write(ref _routeCount, value);
    }

    internal ServerPluginState LifecycleState => _state.State;

    internal void SetState(ServerPluginState state, string? error = null) => _state = new StateBox(state, error);

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

    private sealed record StateBox(ServerPluginState State, string? Error);
}

/// <summary>
/// Every plugin composed into the host, in id order, with its run-time state. Registered as a singleton by
/// <c>AddServerPlugins</c>; inject it to list plugins (as Tailchat's <c>/health</c> and Mattermost's plugin
/// statuses do). It never holds a plugin's settings.
/// </summary>
public sealed class ServerPluginCatalog : IReadOnlyList<ServerPluginEntry>
{
    private readonly ServerPluginEntry[] _entries;

    internal ServerPluginCatalog(ServerPluginEntry[] entries) => _entries = entries;

    /// <inheritdoc/>
    public int Count => _entries.Length;

    /// <inheritdoc/>
    public ServerPluginEntry this[int index] => _entries[index];

    /// <summary>Finds a plugin by id (ordinal comparison).</summary>
    /// <param name="id">The plugin id.</param>
    /// <returns>The entry, or <see langword="null"/> when no composed plugin has that id.</returns>
    public ServerPluginEntry? Find(string id)
    {
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Descriptor.Id, id, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public IEnumerator<ServerPluginEntry> GetEnumerator() => ((IEnumerable<ServerPluginEntry>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
