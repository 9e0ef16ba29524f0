using System.Reflection.Metadata;

[assembly: MetadataUpdateHandler(typeof(Compose.Hosting.PluginHotReload))]

namespace Compose.Hosting;

/// <summary>
/// Hot reload (<c>dotnet watch</c>, Visual Studio, Rider): after the runtime applied a code update, initialises the
/// touched plugins of every running host again, so routes an edited <c>InitAsync</c> adds or removes are served at
/// once instead of after a restart (see <see cref="ServerPluginRuntime.ApplyCodeUpdateAsync"/>).
/// </summary>
/// <remarks>
/// The runtime calls <see cref="UpdateApplication"/> through <see cref="MetadataUpdateHandlerAttribute"/> only while
/// code updates are possible (a Debug build started by a hot reload agent). Hosts are tracked only then
/// (<see cref="MetadataUpdater.IsSupported"/>, which is constant false in a trimmed or Native AOT application, so the
/// trimmer removes the tracking), and only weakly: a host that was never disposed is not kept alive.
/// </remarks>
internal static class PluginHotReload
{
    /// <summary>An AppContext switch that tracks hosts although the runtime cannot apply updates: for tests of this class only.</summary>
    internal const string TestSwitch = "Compose.Hosting.PluginHotReload.TrackForTests";

    private static readonly object Gate = new();
    private static readonly List<WeakReference<ServerPluginRuntime>> Runtimes = [];

    private static bool IsEnabled => MetadataUpdater.IsSupported || (AppContext.TryGetSwitch(TestSwitch, out var on) && on);

    /// <summary>Tracks a host whose plugins were mapped, when code updates are possible.</summary>
    public static void Track(ServerPluginRuntime runtime)
    {
        if (!IsEnabled)
        {
            return;
        }

        lock (Gate)
        {
            Runtimes.RemoveAll(r => !r.TryGetTarget(out _));
            Runtimes.Add(new WeakReference<ServerPluginRuntime>(runtime));
        }
    }

    /// <summary>Stops tracking a host (it is stopping).</summary>
    public static void Untrack(ServerPluginRuntime runtime)
    {
        lock (Gate)
        {
            Runtimes.RemoveAll(r => !r.TryGetTarget(out var target) || ReferenceEquals(target, runtime));
        }
    }

    /// <summary>
    /// Called by the runtime after every code update, on the hot reload agent's thread: starts applying it to each
    /// tracked host and returns at once (re-initialising a plugin awaits its ExitAsync and InitAsync).
    /// </summary>
    /// <param name="updatedTypes">The types the update changed, or null when any type may have changed.</param>
    internal static void UpdateApplication(Type[]? updatedTypes)
    {
        ServerPluginRuntime[] runtimes;
        lock (Gate)
        {
            runtimes = [.. Runtimes.Select(r => r.TryGetTarget(out var target) ? target : null).OfType<ServerPluginRuntime>()];
        }

        foreach (var runtime in runtimes)
        {
            _ = runtime.ApplyCodeUpdateAsync(updatedTypes);
        }
    }
}
