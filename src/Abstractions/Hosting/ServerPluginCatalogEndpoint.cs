using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using Compose;
using Compose.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the opt-in endpoint that lists the composed plugins.</summary>
public static class ServerPluginCatalogEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}</c> to a JSON list of every composed plugin: id, name, description, version, assembly,
    /// state, error (when failed or degraded), route count, the URL of its entry script (when it ships web assets) and
    /// its run-once services with the replica holding each lease (<c>runOnce: [{ service, holder, heldByThisReplica, since }]</c>),
    /// beside this replica's id (<c>replica</c>),
    /// like Tailchat's <c>/health</c> plugin list and Mattermost's plugin statuses. It never shows a plugin's settings,
    /// and shows a failure's exception text only in the Development environment (elsewhere: "failed; see the host
    /// log"), as exception messages can carry connection strings. Serialized with source-generated metadata (AOT-safe).
    /// </summary>
    /// <remarks>
    /// The endpoint joins the group <c>MapServerPlugins()</c> returns, so its conventions (<c>RequireAuthorization()</c>
    /// and the like) protect the catalog too; the returned builder adds conventions to the catalog alone, and
    /// <c>AllowAnonymous()</c> on it opens the catalog explicitly. <c>Compose:ShareConventions=false</c> maps it on its own.
    /// </remarks>
    /// <param name="endpoints">The application: the same route builder <c>MapServerPlugins()</c> is called on.</param>
    /// <param name="pattern">The route; default: the plugin route prefix itself (<c>/api/plugins</c>).</param>
    /// <returns>The endpoint's convention builder, for <c>RequireAuthorization()</c> and the like.</returns>
    /// <exception cref="InvalidOperationException">
    /// <c>AddServerPlugins</c> was not called, or <c>MapServerPlugins()</c> was called on another route builder while
    /// <c>Compose:ShareConventions</c> is on.
    /// </exception>
    public static IEndpointConventionBuilder MapServerPluginCatalog(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string? pattern = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var runtime = endpoints.ServiceProvider.GetService<ServerPluginRuntime>()
            ?? throw new InvalidOperationException(
                "Server plugins are not registered: call builder.Services.AddServerPlugins(builder.Configuration) before app.MapServerPluginCatalog().");
        var catalog = runtime.Catalog;
        var development = endpoints.ServiceProvider.GetService<IHostEnvironment>()?.IsDevelopment() == true;
        var composition = CompositionVersion.Of(catalog);
        var replica = Compose.Store.PluginStoreBackend.ReplicaIdOf(endpoints.ServiceProvider);
        var target = runtime.Options.ShareConventions ? runtime.Root(endpoints, "MapServerPluginCatalog") : endpoints;
        return target.MapGet(pattern ?? runtime.RoutePrefix, context =>
        {
            var listing = new ServerPluginCatalogListing(runtime.RoutePrefix, runtime.AssetsPrefix, composition, replica, catalog.Select(entry => new ServerPluginCatalogItem(
                entry.Descriptor.Id,
                entry.Descriptor.Name,
                entry.Descriptor.Description,
                entry.Descriptor.Version,
                entry.Descriptor.AssemblyName,
                entry.State.ToString(),
                CatalogText.For(entry, development),
                entry.Reason,
                entry.Descriptor.DependsOn,
                entry.Dependents,
                entry.RouteCount,
                entry.Descriptor.EntryScript is { } script ? $"{runtime.AssetsPrefix.TrimEnd('/')}/{entry.Descriptor.Id}/{script}" : null,
                entry.RunOnce is { Count: > 0 } runOnce ? runOnce : null)).ToList());
            context.Response.ContentType = "application/json; charset=utf-8";
            return JsonSerializer.SerializeAsync(context.Response.Body, listing, ServerPluginCatalogJsonContext.Default.ServerPluginCatalogListing, context.RequestAborted);
        }).WithTags("Compose").WithName("ServerPluginCatalog");
    }
}

/// <summary>What the catalog says of a failure: the reason in Development, a pointer to the log elsewhere.</summary>
file static class CatalogText
{
    public static string? For(ServerPluginEntry entry, bool development) => entry.State switch
    {
        ServerPluginState.Failed => development ? entry.Error : "failed; see the host log",
        ServerPluginState.Degraded => development ? entry.Error : "degraded; see the host log",
        _ => null,
    };
}

/// <summary>
/// A stable version of the host's composition: the first 16 hex digits of the SHA-256 of the composed plugins' ids,
/// versions and assemblies in id order. Equal on every replica built from the same packages; independent of state.
/// </summary>
file static class CompositionVersion
{
    public static string Of(ServerPluginCatalog catalog)
    {
        var text = string.Join('\n', catalog
            .Select(entry => $"{entry.Descriptor.Id}@{entry.Descriptor.Version}/{entry.Descriptor.AssemblyName}")
            .OrderBy(line => line, StringComparer.Ordinal));
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return Convert.ToHexString(hash, 0, 8).ToLowerInvariant();
    }
}

/// <summary>
/// The body of the catalog endpoint: the host's plugin route prefix and assets prefix (what a gateway routes), the
/// composition version (see <c>CompositionVersion</c>), this replica's id (<c>Compose:Store:ReplicaId</c>, or the
/// store backend's) and the plugins.
/// </summary>
internal sealed record ServerPluginCatalogListing(string RoutePrefix, string AssetsPrefix, string Composition, string Replica, IReadOnlyList<ServerPluginCatalogItem> Plugins);

/// <summary>One plugin in the catalog endpoint's body; deliberately no settings.</summary>
internal sealed record ServerPluginCatalogItem(
    string Id,
    string Name,
    string Description,
    string Version,
    string Assembly,
    string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    IReadOnlyList<string> DependsOn,
    IReadOnlyList<string> Dependents,
    int RouteCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EntryScript,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Compose.Store.RunOnceServiceStatus>? RunOnce);

[JsonSerializable(typeof(ServerPluginCatalogListing))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class ServerPluginCatalogJsonContext : JsonSerializerContext;
