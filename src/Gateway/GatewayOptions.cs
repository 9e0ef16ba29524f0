namespace Compose.Gateway;

/// <summary>
/// The gateway's settings, bound from <c>Compose:Gateway</c>. Reloaded with the configuration: a changed host list,
/// address or setting takes effect at once (the hosts' catalogs are read again and YARP gets a new configuration).
/// </summary>
public sealed class ServerPluginGatewayOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Compose:Gateway";

    /// <summary>
    /// The hosts behind the gateway, by name (<c>Compose:Gateway:Hosts:{name}</c>). A name stands for one composition;
    /// its <see cref="ServerPluginGatewayHost.Addresses"/> are replicas of it.
    /// </summary>
    public Dictionary<string, ServerPluginGatewayHost> Hosts { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Where the gateway's own catalog is mapped (<c>GET {RoutePrefix}</c>); default <c>/api/plugins</c>.</summary>
    public string RoutePrefix { get; set; } = "/api/plugins";

    /// <summary>
    /// The assets prefix the gateway answers 404/503 problem+json under for plugins no host serves; default <c>/plugins</c>.
    /// Routed plugins' assets follow the prefix their host's catalog names.
    /// </summary>
    public string AssetsPrefix { get; set; } = "/plugins";

    /// <summary>How often every host's catalog is read again; default 30 seconds. At least one second.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one catalog request may take before the address counts as down; default 5 seconds.</summary>
    public TimeSpan CatalogTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The credential sent with every catalog request, unless a host has its own
    /// (<see cref="ServerPluginGatewayHost.CatalogCredential"/>). Never forwarded to clients or shown by the gateway.
    /// </summary>
    public ServerPluginGatewayCredential CatalogCredential { get; set; } = new();

    /// <summary>Active and passive health checks of each replica.</summary>
    public ServerPluginGatewayHealthOptions HealthCheck { get; set; } = new();

    /// <summary>YARP's load-balancing policy across a host's replicas; default <c>PowerOfTwoChoices</c>.</summary>
    public string LoadBalancingPolicy { get; set; } = "PowerOfTwoChoices";
}

/// <summary>One host behind the gateway: <c>Compose:Gateway:Hosts:{name}</c>.</summary>
public sealed class ServerPluginGatewayHost
{
    /// <summary>Base addresses of the host's replicas (<c>http://127.0.0.1:5001</c>); at least one.</summary>
    public List<string> Addresses { get; set; } = [];

    /// <summary>
    /// The path of the host's catalog (<c>MapServerPluginCatalog()</c>); default <c>/api/plugins</c>. The catalog itself
    /// tells the gateway the host's route and assets prefixes.
    /// </summary>
    public string CatalogPath { get; set; } = "/api/plugins";

    /// <summary>This host's catalog credential; when unset the gateway-wide <see cref="ServerPluginGatewayOptions.CatalogCredential"/>.</summary>
    public ServerPluginGatewayCredential? CatalogCredential { get; set; }
}

/// <summary>A header sent with catalog requests, e.g. <c>X-Api-Key: secret</c> or <c>Authorization: Bearer ...</c>.</summary>
public sealed class ServerPluginGatewayCredential
{
    /// <summary>The header name; default <c>X-Api-Key</c>.</summary>
    public string Header { get; set; } = "X-Api-Key";

    /// <summary>The header value; nothing is sent when empty.</summary>
    public string? Value { get; set; }
}

/// <summary>Health checks of the replicas, YARP's active and passive checks.</summary>
public sealed class ServerPluginGatewayHealthOptions
{
    /// <summary>Whether each replica's <see cref="Path"/> is probed; default on.</summary>
    public bool Active { get; set; } = true;

    /// <summary>The probed path; default <c>/health</c> (<c>MapHealthChecks("/health")</c>). A non-2xx answer counts as a failure.</summary>
    public string Path { get; set; } = "/health";

    /// <summary>Time between probes; default 5 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take; default 2 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed probes in a row before a replica leaves its cluster; default 1.</summary>
    public int ConsecutiveFailures { get; set; } = 1;

    /// <summary>Whether failed proxied requests (connection refused, reset) mark a replica unhealthy at once; default on.</summary>
    public bool Passive { get; set; } = true;

    /// <summary>How long a replica marked unhealthy by a failed request stays out before it is tried again; default 10 seconds.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(10);
}
