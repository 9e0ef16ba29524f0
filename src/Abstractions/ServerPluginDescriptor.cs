namespace Compose;

/// <summary>
/// What the build knows about one composed server plugin: its id, display data and where it comes from.
/// Created by generated code from compile-time constants; immutable.
/// </summary>
public sealed class ServerPluginDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    /// <param name="id">The plugin id (<c>^[a-z0-9_-]+$</c>).</param>
    /// <param name="name">The display name; the id when <see langword="null"/> or empty.</param>
    /// <param name="description">A one-line description; empty when <see langword="null"/>.</param>
    /// <param name="pluginType">The plugin class.</param>
    /// <param name="assemblyName">The simple name of the assembly that declares the plugin.</param>
    /// <param name="version">The informational version of that assembly (its package version, normally).</param>
    /// <param name="environments">The host environments the plugin is meant for; <see langword="null"/> or empty for all.</param>
    /// <param name="entryScript">The entry script of the plugin's web assets, relative to its <c>wwwroot</c>; null when it has none.</param>
    /// <param name="webAssetsPath">Where the plugin's web assets are in the host's web root, e.g. <c>_content/Acme.Notes</c>.</param>
    /// <param name="dependsOn">The ids of the plugins this plugin depends on (<see cref="ServerPluginAttribute.DependsOn"/>); null or empty for none.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="pluginType"/> is null.</exception>
    public ServerPluginDescriptor(
        string id,
        string? name,
        string? description,
        Type pluginType,
        string assemblyName,
        string version,
        IReadOnlyList<string>? environments = null,
        string? entryScript = null,
        string? webAssetsPath = null,
        IReadOnlyList<string>? dependsOn = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(pluginType);
        Id = id;
        Name = string.IsNullOrEmpty(name) ? id : name;
        Description = description ?? string.Empty;
        PluginType = pluginType;
        AssemblyName = assemblyName ?? string.Empty;
        Version = version ?? string.Empty;
        Environments = environments ?? [];
        EntryScript = string.IsNullOrEmpty(entryScript) ? null : entryScript.TrimStart('/');
        WebAssetsPath = string.IsNullOrEmpty(webAssetsPath) ? null : webAssetsPath.Trim('/');
        DependsOn = dependsOn ?? [];
    }

    /// <summary>Gets the plugin id: its route segment and configuration section name.</summary>
    public string Id { get; }

    /// <summary>Gets the display name.</summary>
    public string Name { get; }

    /// <summary>Gets the description.</summary>
    public string Description { get; }

    /// <summary>Gets the plugin class.</summary>
    public Type PluginType { get; }

    /// <summary>Gets the simple name of the assembly that declares the plugin.</summary>
    public string AssemblyName { get; }

    /// <summary>Gets the informational version of the plugin's assembly.</summary>
    public string Version { get; }

    /// <summary>Gets the host environments the plugin is meant for (from its attribute); empty for all.</summary>
    public IReadOnlyList<string> Environments { get; }

    /// <summary>Gets the entry script of the plugin's web assets, relative to its <c>wwwroot</c>, or null.</summary>
    public string? EntryScript { get; }

    /// <summary>Gets where the plugin's web assets are in the host's web root (<c>_content/{PackageId}</c>), or null.</summary>
    public string? WebAssetsPath { get; }

    /// <summary>Gets the ids of the plugins this plugin depends on; empty for none.</summary>
    public IReadOnlyList<string> DependsOn { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Id})";
}
