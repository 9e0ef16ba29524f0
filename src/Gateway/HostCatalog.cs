using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compose.Gateway;

/// <summary>What the gateway reads of a host's catalog (<c>MapServerPluginCatalog()</c>); unknown fields are ignored.</summary>
internal sealed record HostCatalogDocument(
    string? RoutePrefix,
    string? AssetsPrefix,
    string? Composition,
    IReadOnlyList<HostCatalogPlugin>? Plugins);

/// <summary>One plugin of a host's catalog.</summary>
internal sealed record HostCatalogPlugin(string Id, string? Name, string? Version, string? State, string? EntryScript);

/// <summary>The gateway's own catalog (<c>GET {RoutePrefix}</c> of the gateway).</summary>
internal sealed record GatewayCatalogListing(IReadOnlyList<GatewayCatalogHost> Hosts, IReadOnlyList<GatewayCatalogPlugin> Plugins);

/// <summary>A host in the gateway's catalog: never its addresses' credentials.</summary>
internal sealed record GatewayCatalogHost(
    string Name,
    string Status,
    int Replicas,
    int HealthyReplicas,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Composition,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    DateTimeOffset? LastRead);

/// <summary>A plugin in the gateway's catalog: the host serving it (or null) and its state there.</summary>
internal sealed record GatewayCatalogPlugin(
    string Id,
    string? Name,
    string? Version,
    string? Host,
    string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EntryScript,
    IReadOnlyList<GatewayCatalogPlacement> Hosts);

/// <summary>A plugin's state on one host.</summary>
internal sealed record GatewayCatalogPlacement(string Host, string State);

[JsonSerializable(typeof(HostCatalogDocument))]
[JsonSerializable(typeof(GatewayCatalogListing))]
[JsonSerializable(typeof(GatewayProblem))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;

/// <summary>An RFC 9457 problem the gateway writes itself (no MVC, AOT-safe).</summary>
internal sealed record GatewayProblem(
    string Type,
    string Title,
    int Status,
    string Detail,
    string? Plugin,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Host,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Hosts);
