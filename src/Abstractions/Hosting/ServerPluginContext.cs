using Microsoft.Extensions.Configuration;

namespace Compose.Hosting;

/// <summary>The <see cref="IServerPluginContext"/> of one plugin; registered per plugin as a keyed singleton.</summary>
internal sealed class ServerPluginContext(ServerPluginDescriptor descriptor, IConfiguration configuration, string dataRoot) : IServerPluginContext
{
    private readonly Lazy<string> _dataDirectory = new(() => Directory.CreateDirectory(Path.Combine(dataRoot, descriptor.Id)).FullName);

    public ServerPluginDescriptor Descriptor => descriptor;

    public IConfiguration Configuration => configuration;

    public string DataDirectory => _dataDirectory.Value;

    public string ResolvePath(string relativePath) => SafePath.Resolve(DataDirectory, relativePath);
}
