using Microsoft.Extensions.Configuration;

namespace Compose.Hosting;

/// <summary>The <see cref="IServerPluginContext"/> of one plugin; registered per plugin as a keyed singleton.</summary>
internal sealed class ServerPluginContext(ServerPluginDescriptor descriptor, IConfiguration configuration, string dataRoot) : IServerPluginContext
{
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly Lazy<string> _dataDirectory = new(() => CreatePrivateDirectory(Path.Combine(dataRoot, descriptor.Id)));

    public ServerPluginDescriptor Descriptor => descriptor;

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
