using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using Compose;
using Compose.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the opt-in endpoint that lists the composed plugins.</summary>
public static class ServerPluginCatalogEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}</c> to a JSON list of every composed plugin: id, name, description, version, assembly,
    /// state, error (when failed), route count and the URL of its entry script (when it ships web assets), like Tailchat's <c>/health</c> plugin list and Mattermost's
    /// plugin statuses. It never shows a plugin's settings. Serialized with source-generated metadata (AOT-safe).
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <param name="pattern">The route; default: the plugin route prefix itself (<c>/api/plugins</c>).</param>
    /// <returns>The endpoint's convention builder, for <c>RequireAuthorization()</c> and the like.</returns>
    /// <exception cref="InvalidOperationException"><c>AddServerPlugins</c> was not called.</exception>
    public static IEndpointConventionBuilder MapServerPluginCatalog(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string? pattern = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var runtime = endpoints.ServiceProvider.GetService<ServerPluginRuntime>()
            ?? throw new InvalidOperationException(
                "Server plugins are not registered: call builder.Services.AddServerPlugins(builder.Configuration) before app.MapServerPluginCatalog().");
        var catalog = runtime.Catalog;
        return endpoints.MapGet(pattern ?? runtime.RoutePrefix, context =>
        {
            var listing = new ServerPluginCatalogListing(catalog.Select(entry => new ServerPluginCatalogItem(
                entry.Descriptor.Id,
                entry.Descriptor.Name,
                entry.Descriptor.Description,
                entry.Descriptor.Version,
                entry.Descriptor.AssemblyName,
                entry.State.ToString(),
                entry.State == ServerPluginState.Failed ? entry.Error : null,
                entry.RouteCount,
                entry.Descriptor.EntryScript is { } script ? $"{runtime.AssetsPrefix.TrimEnd('/')}/{entry.Descriptor.Id}/{script}" : null)).ToList());
            context.Response.ContentType = "application/json; charset=utf-8";
            return JsonSerializer.SerializeAsync(context.Response.Body, listing, ServerPluginCatalogJsonContext.Default.ServerPluginCatalogListing, context.RequestAborted);
        }).WithTags("Compose").WithName("ServerPluginCatalog");
    }
}

/// <summary>The body of the catalog endpoint.</summary>
internal sealed record ServerPluginCatalogListing(IReadOnlyList<ServerPluginCatalogItem> Plugins);

/// <summary>One plugin in the catalog endpoint's body; deliberately no settings.</summary>
internal sealed record ServerPluginCatalogItem(
    string Id,
    string Name,
    string Description,
    string Version,
    string Assembly,
    string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    int RouteCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EntryScript);

[JsonSerializable(typeof(ServerPluginCatalogListing))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class ServerPluginCatalogJsonContext : JsonSerializerContext;
