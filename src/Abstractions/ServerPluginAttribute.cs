namespace Compose;

/// <summary>
/// Marks a class as a Compose server plugin. At build time the Compose source generator registers the
/// class in dependency injection and mounts the routes it registers in
/// <see cref="IServerPlugin.InitAsync(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder, System.Threading.CancellationToken)"/>
/// under <c>/api/plugins/{id}/</c>.
/// </summary>
/// <remarks>
/// Mirrors the <c>info</c> object of a Luker/SillyTavern server plugin (<c>id</c>, <c>name</c>,
/// <c>description</c>). The class must be public, non-abstract, non-generic, implement
/// <see cref="IServerPlugin"/> and have exactly one public constructor; its parameters are resolved from
/// dependency injection. The id must match <c>^[a-z0-9_-]+$</c> (Luker's plugin id rule) and be unique
/// among all plugins a host composes. Both are checked by the compiler (diagnostics CMP0001–CMP0007).
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ServerPluginAttribute : Attribute
{
    /// <summary>Declares a server plugin with the given id.</summary>
    /// <param name="id">
    /// The plugin id: lowercase letters, digits, <c>-</c> and <c>_</c> only (<c>^[a-z0-9_-]+$</c>). It is the
    /// route segment under the plugin prefix (<c>/api/plugins/{id}/</c>) and the name of the plugin's
    /// configuration section (<c>Compose:Plugins:{id}</c>).
    /// </param>
    public ServerPluginAttribute(string id) => Id = id;

    /// <summary>Gets the plugin id given to the constructor.</summary>
    public string Id { get; }

    /// <summary>Gets or sets the display name used in logs and the plugin catalog. Defaults to the id.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets a one-line summary of what the plugin does, shown in the plugin catalog.</summary>
    public string? Description { get; set; }

    /// <summary>
    /// Gets or sets the host environments the plugin is composed in (for example <c>["Development"]</c> for a
    /// diagnostics plugin, like Tailchat's dev-only plugins), compared case-insensitively with the host's
    /// <c>IHostEnvironment.EnvironmentName</c>. <see langword="null"/> or empty means every environment. A host
    /// overrides it with <c>Compose:Plugins:{id}:Environments</c> (a comma-separated list or an array).
    /// </summary>
    public string[]? Environments { get; set; }

    /// <summary>
    /// Gets or sets the script, relative to the plugin project's <c>wwwroot</c>, that a page loads to pair with the
    /// plugin (Mattermost's webapp bundle, Tailchat's frontend plugins), for example <c>index.js</c>. Setting it
    /// declares that the package ships static web assets (a project with <c>Sdk="Microsoft.NET.Sdk.Razor"</c> and a
    /// <c>wwwroot</c> folder): the host serves them under <c>/plugins/{id}/</c> and the catalog names the script.
    /// </summary>
    public string? EntryScript { get; set; }

    /// <summary>
    /// Gets or sets the ids of the plugins this plugin needs (for example <c>DependsOn = ["bookmarks"]</c> on a plugin
    /// that uses the store the <c>bookmarks</c> plugin registers). A host that does not compose one of them fails to
    /// build; a cycle is a build error. At run time a dependency's <c>ConfigureServices</c> runs first, a dependent's
    /// <c>InitAsync</c> is called only once all its dependencies initialised, it exits before them, and it is switched
    /// off or fails with them (ABP's <c>[DependsOn]</c>, Orchard Core's feature dependencies, checked at build time).
    /// Versions stay NuGet's job: reference the dependency's package with a version range.
    /// </summary>
    public string[]? DependsOn { get; set; }
}
