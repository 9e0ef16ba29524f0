using Compose.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.Hosting;

/// <summary>The <see cref="IServerPluginContext"/> of one plugin; registered per plugin as a keyed singleton.</summary>
/// <remarks>
/// With <paramref name="services"/>, a registered <see cref="PluginStoreBackend"/> supplies the store and the events;
/// without one (or without <paramref name="services"/>) they are the embedded defaults.
/// </remarks>
internal sealed class ServerPluginContext(ServerPluginDescriptor descriptor, IConfiguration configuration, string dataRoot, IServiceProvider? services = null) : IServerPluginContext
{
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly Lazy<string> _dataDirectory = new(() => CreatePrivateDirectory(Path.Combine(dataRoot, descriptor.Id)));

    private readonly Lazy<PluginStoreBackend?> _backend = new(() => services?.GetService<PluginStoreBackend>());

    public ServerPluginDescriptor Descriptor => descriptor;

    public IPluginStore Store => field ??= _backend.Value?.GetStore(descriptor.Id) ?? new FilePluginStore(descriptor.Id, DataDirectory);

    public IPluginClusterEvents Events => field ??= _backend.Value?.GetEvents(descriptor.Id)
        ?? new InProcessClusterEvents(descriptor.Id, services is null ? PluginStoreBackend.ProcessReplicaId : PluginStoreBackend.ReplicaIdOf(services), services?.GetService<ILoggerFactory>()?.CreateLogger("Compose.Store"));

    public IConfiguration Configuration => configuration;

    public string DataDirectory => _dataDirectory.Value;

    public string ResolvePath(string relativePath) => SafePath.Resolve(DataDirectory, relativePath);

    // Owner-only on Unix: created 0700 (missing parents too); one made by an earlier version (0755) is narrowed.
    private static string CreatePrivateDirectory(string path)
    {
        SafePath.CreateOwnerOnlyDirectory(path);
        var full = Path.GetFullPath(path);
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & GroupOrOthers) != 0)
        {
            File.SetUnixFileMode(full, File.GetUnixFileMode(full) & ~GroupOrOthers);
        }

        return full;
    }
}
