using Microsoft.Extensions.Configuration;

namespace Compose;

/// <summary>
/// What a plugin knows about itself at run time: its descriptor, its configuration section and a private data
/// directory. Inject it into the plugin's constructor (the generated code supplies the plugin's own context), or
/// into the plugin's services as <c>[FromKeyedServices("{id}")] IServerPluginContext</c>.
/// </summary>
/// <remarks>
/// The data directory answers the seeds' per-plugin files (Luker's <c>config.json</c> next to the plugin, kept out
/// of source control); <see cref="ResolvePath"/> answers their path-traversal advice.
/// </remarks>
public interface IServerPluginContext
{
    /// <summary>Gets the plugin's descriptor.</summary>
    ServerPluginDescriptor Descriptor { get; }

    /// <summary>Gets the plugin's own configuration section, <c>Compose:Plugins:{id}</c>.</summary>
    IConfiguration Configuration { get; }

    /// <summary>
    /// Gets the plugin's private data directory, <c>{DataRoot}/{id}</c> (<c>Compose:DataRoot</c>, default
    /// <c>App_Data/plugins</c> under the host's content root), created on first use.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be created.</exception>
    string DataDirectory { get; }

    /// <summary>
    /// Resolves a relative path, possibly supplied by a user, under <see cref="DataDirectory"/>, rejecting every
    /// escape (see <see cref="SafePath.Resolve"/>).
    /// </summary>
    /// <param name="relativePath">A relative path such as <c>notes/today.md</c>.</param>
    /// <returns>The full path, inside the data directory.</returns>
    /// <exception cref="UnauthorizedAccessException">The path would escape the data directory.</exception>
    string ResolvePath(string relativePath);
}
