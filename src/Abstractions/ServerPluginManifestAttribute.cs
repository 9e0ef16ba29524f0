using System.ComponentModel;

namespace Compose;

/// <summary>
/// Describes one server plugin of an assembly. Written by the Compose source generator into every assembly
/// that declares plugins, and read by the generator of a host that references the assembly, so the host
/// reads one attribute per reference instead of walking every type. Not meant to be written by hand.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ServerPluginManifestAttribute : Attribute
{
    /// <summary>Creates a manifest entry.</summary>
    /// <param name="id">The plugin id, as written in its <see cref="ServerPluginAttribute"/>.</param>
    /// <param name="pluginType">
    /// The plugin class, or <see langword="null"/> when the class cannot be referenced by a host
    /// (for example a non-public or generic class); <see cref="TypeName"/> names it then.
    /// </param>
    public ServerPluginManifestAttribute(string id, Type? pluginType)
    {
        Id = id;
        PluginType = pluginType;
    }

    /// <summary>Gets the plugin id.</summary>
    public string Id { get; }

    /// <summary>Gets the plugin class, when a host can reference it.</summary>
    public Type? PluginType { get; }

    /// <summary>Gets or sets the fully qualified name of the plugin class.</summary>
    public string? TypeName { get; set; }

    /// <summary>Gets or sets the display name.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets the description.</summary>
    public string? Description { get; set; }

    /// <summary>Gets or sets the host environments the plugin is meant for, comma separated; <see langword="null"/> for all.</summary>
    public string? Environments { get; set; }

    /// <summary>Gets or sets the ids of the plugins this plugin depends on, comma separated; <see langword="null"/> for none.</summary>
    public string? DependsOn { get; set; }

    /// <summary>Gets or sets the entry script of the plugin's web assets, relative to its <c>wwwroot</c>.</summary>
    public string? EntryScript { get; set; }

    /// <summary>Gets or sets where the package's static web assets are in a host's web root (<c>_content/{PackageId}</c>).</summary>
    public string? WebAssetsPath { get; set; }

    /// <summary>Gets or sets whether the class declares a static <c>ConfigureServices</c> method.</summary>
    public bool HasConfigureServices { get; set; }

    /// <summary>Gets or sets whether the class implements <see cref="IServerPlugin.ExitAsync"/> itself.</summary>
    public bool HasExitAsync { get; set; }

    /// <summary>Gets or sets the version of the Compose generator that wrote this entry.</summary>
    public string? ComposeVersion { get; set; }

    /// <summary>
    /// Gets or sets the ids of the Compose rules the plugin broke in its own build, comma separated
    /// (for example <c>"CMP0001"</c>), or <see langword="null"/> when it broke none. A host refuses such a
    /// plugin even when its author suppressed the errors.
    /// </summary>
    public string? Errors { get; set; }
}
