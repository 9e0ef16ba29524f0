using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Compose.Gateway;

/// <summary>The problem+json answers of the gateway.</summary>
internal static class GatewayProblems
{
    public static async Task ForwardAsync(HttpContext context, Func<Task> next, ServerPluginGatewayOptions options)
    {
        var feature = context.GetReverseProxyFeature();
        var metadata = feature.Route.Config.Metadata;
        var plugin = metadata?.GetValueOrDefault(GatewayDirectory.PluginMetadata);
        var host = metadata?.GetValueOrDefault(GatewayDirectory.HostMetadata);
        if (feature.AvailableDestinations.Count == 0)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(options.HealthCheck.Interval.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteAsync(context, new GatewayProblem(
                "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                "Plugin unavailable",
                StatusCodes.Status503ServiceUnavailable,
                $"No healthy replica of host {host} is left to serve plugin {plugin}.",
                plugin,
                host,
                null));
            return;
        }

        // Safe retries: a request of an idempotent, bodiless method whose forward failed before any response (the replica
        // refused the connection: killed, not yet taken out by the health checks) goes to another available replica,
        // once per replica. RFC 9110 section 9.2.2 allows retrying idempotent requests automatically.
        var candidates = feature.AvailableDestinations;
        var tried = new List<DestinationState>(1);
        await next();
        while (context.GetForwarderErrorFeature() is { Error: ForwarderError.Request }
            && Retryable(context)
            && feature.ProxiedDestination is { } failed)
        {
            tried.Add(failed);
            var others = candidates.Where(destination => !tried.Contains(destination)).ToList();
            if (others.Count == 0)
            {
                break;
            }

            feature.AvailableDestinations = others;
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.StatusCode = StatusCodes.Status200OK;
            await next();
        }

        if (context.GetForwarderErrorFeature() is { } error && !context.Response.HasStarted)
        {
            await WriteAsync(context, new GatewayProblem(
                "https://tools.ietf.org/html/rfc9110#section-15.6.3",
                "Bad gateway",
                StatusCodes.Status502BadGateway,
                $"Host {host} did not answer the request for plugin {plugin} ({error.Error}).",
                plugin,
                host,
                null));
        }
    }

    private static bool Retryable(HttpContext context) =>
        !context.Response.HasStarted
        && !context.WebSockets.IsWebSocketRequest
        && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method))
        && context.Request.ContentLength is null or 0
        && !context.Request.Headers.ContainsKey("Transfer-Encoding");

    public static Task UnservedAsync(HttpContext context, GatewayView view)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        if (view.AmbiguousPlugins.TryGetValue(id, out var hosts))
        {
            return WriteAsync(context, new GatewayProblem(
                "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                "Ambiguous plugin",
                StatusCodes.Status503ServiceUnavailable,
                $"Plugin {id} is running on hosts {string.Join(" and ", hosts)}; the gateway routes an ambiguous id to none of them.",
                id,
                null,
                hosts));
        }

        var placements = view.Placements(id).ToList();
        var unavailable = placements.Where(pair => !string.Equals(pair.Plugin.State, "Disabled", StringComparison.OrdinalIgnoreCase)).ToList();
        if (unavailable.Count > 0)
        {
            var (host, plugin) = unavailable[0];
            return WriteAsync(context, new GatewayProblem(
                "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                "Plugin unavailable",
                StatusCodes.Status503ServiceUnavailable,
                $"Plugin {id} is {plugin.State} on host {host.Name}.",
                id,
                host.Name,
                null));
        }

        return WriteAsync(context, new GatewayProblem(
            "https://tools.ietf.org/html/rfc9110#section-15.5.5",
            "Plugin not found",
            StatusCodes.Status404NotFound,
            placements.Count > 0
                ? $"Plugin {id} is switched off on host(s) {string.Join(", ", placements.Select(pair => pair.Host.Name))}."
                : $"No host behind the gateway composes plugin {id}.",
            id,
            null,
            null));
    }

    private static Task WriteAsync(HttpContext context, GatewayProblem problem)
    {
        context.Response.StatusCode = problem.Status;
        context.Response.ContentType = "application/problem+json";
        return JsonSerializer.SerializeAsync(context.Response.Body, problem, GatewayJsonContext.Default.GatewayProblem, context.RequestAborted);
    }
}

/// <summary>The gateway's own catalog: every plugin with its host and state, every host with its status.</summary>
internal static class GatewayCatalog
{
    public static GatewayCatalogListing Build(GatewayView view, IProxyStateLookup state)
    {
        var hosts = view.Hosts.Select(host =>
        {
            var (replicas, healthy) = Replicas(host, state);
            var up = host.Error is null && host.Catalog is not null && healthy > 0;
            return new GatewayCatalogHost(host.Name, up ? "Up" : "Down", replicas, healthy, host.Catalog?.Composition, host.Error is null ? null : "catalog unreachable; see the gateway log", host.LastRead);
        }).ToList();

        var ids = view.Hosts.SelectMany(host => host.Catalog?.Plugins ?? []).Select(plugin => plugin.Id).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var plugins = ids.Select(id =>
        {
            var placements = view.Placements(id).ToList();
            var first = placements[0].Plugin;
            var all = placements.Select(pair => new GatewayCatalogPlacement(pair.Host.Name, pair.Plugin.State ?? "Unknown")).ToList();
            if (view.AmbiguousPlugins.TryGetValue(id, out var names))
            {
                return new GatewayCatalogPlugin(id, first.Name, first.Version, null, "Ambiguous",
                    $"running on hosts {string.Join(" and ", names)}; routed to none", null, all);
            }

            if (view.RoutedPlugins.TryGetValue(id, out var host))
            {
                var running = placements.First(pair => pair.Host == host).Plugin;
                var up = hosts.First(entry => entry.Name == host.Name).Status == "Up";
                return new GatewayCatalogPlugin(id, running.Name, running.Version, host.Name, up ? "Running" : "Unavailable",
                    up ? null : $"host {host.Name} is down", running.EntryScript is { } script ? Rebase(script, host.AssetsPrefix) : null, all);
            }

            var shown = placements.FirstOrDefault(pair => !string.Equals(pair.Plugin.State, "Disabled", StringComparison.OrdinalIgnoreCase));
            shown = shown.Host is null ? placements[0] : shown;
            return new GatewayCatalogPlugin(id, shown.Plugin.Name, shown.Plugin.Version, shown.Host.Name, shown.Plugin.State ?? "Unknown", null, null, all);
        }).ToList();
        return new GatewayCatalogListing(hosts, plugins);
    }

    public static Task WriteAsync(HttpContext context, GatewayDirectory directory, IProxyStateLookup state)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, Build(directory.View, state), GatewayJsonContext.Default.GatewayCatalogListing, context.RequestAborted);
    }

    public static (int Replicas, int Healthy) Replicas(HostView host, IProxyStateLookup state)
    {
        if (!state.TryGetCluster(host.ClusterId, out var cluster))
        {
            return (host.Addresses.Count, 0);
        }

        var destinations = cluster.DestinationsState;
        return (destinations.AllDestinations.Count, destinations.AvailableDestinations.Count);
    }

    // The host's entry script URL is already under its assets prefix, which the gateway routes unchanged.
    private static string Rebase(string script, string assetsPrefix) => script.StartsWith(assetsPrefix, StringComparison.Ordinal) ? script : assetsPrefix + "/" + script.TrimStart('/');
}

/// <summary>Healthy when every host's catalog was read and each has a healthy replica; Degraded otherwise.</summary>
internal sealed class GatewayHealthCheck(GatewayDirectory directory, IProxyStateLookup state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var view = directory.View;
        var down = view.Hosts.Where(host => host.Error is not null || host.Catalog is null || GatewayCatalog.Replicas(host, state).Healthy == 0)
            .Select(host => host.Name).ToList();
        var data = new Dictionary<string, object> { ["hosts"] = view.Hosts.Count, ["down"] = down.Count };
        if (view.AmbiguousPlugins.Count > 0)
        {
            data["ambiguous"] = string.Join(", ", view.AmbiguousPlugins.Keys);
        }

        if (down.Count > 0)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"Host(s) down: {string.Join(", ", down)}", data: data));
        }

        return Task.FromResult(view.AmbiguousPlugins.Count > 0
            ? new HealthCheckResult(context.Registration.FailureStatus, $"Ambiguous plugin id(s): {string.Join(", ", view.AmbiguousPlugins.Keys)}", data: data)
            : HealthCheckResult.Healthy($"{view.Hosts.Count} host(s) up, {view.RoutedPlugins.Count} plugin(s) routed", data));
    }
}
