using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace Compose.Hosting;

/// <summary>
/// The endpoints of one plugin, as the router sees them. While the plugin runs they pass through unchanged;
/// while it is switched off by configuration there are none (404); when it has failed, each keeps its route but
/// answers 503 with a ProblemDetails body naming the plugin. A state change fires the change token, so routing
/// rebuilds its tables once; nothing is checked per request.
/// </summary>
internal sealed class PluginEndpointDataSource(ServerPluginEntry entry, IReadOnlyList<EndpointDataSource> sources, bool countsRoutes = true) : EndpointDataSource
{
    private readonly object _gate = new();
    private CancellationTokenSource _changed = new();

    public override IReadOnlyList<Endpoint> Endpoints => Present(sources.SelectMany(s => s.Endpoints));

    public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context)
        => Present(sources.SelectMany(s => s.GetGroupedEndpoints(context)));

    public override IChangeToken GetChangeToken()
    {
        lock (_gate)
        {
            var tokens = new List<IChangeToken>(sources.Count + 1) { new CancellationChangeToken(_changed.Token) };
            tokens.AddRange(sources.Select(s => s.GetChangeToken()));
            return new CompositeChangeToken(tokens);
        }
    }

    /// <summary>Tells routing that this plugin's endpoints changed (it was switched off or on, or it failed).</summary>
    public void NotifyChanged()
    {
        CancellationTokenSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = new CancellationTokenSource();
        }

        previous.Cancel();
        previous.Dispose();
    }

    private IReadOnlyList<Endpoint> Present(IEnumerable<Endpoint> endpoints)
    {
        var all = endpoints.ToList();
        if (countsRoutes)
        {
            entry.RouteCount = all.Count;
        }

        if (entry.State == ServerPluginState.Disabled)
        {
            return [];
        }

        if (entry.State != ServerPluginState.Failed)
        {
            return all;
        }

        var unavailable = Unavailable(entry.Descriptor);
        return all
            .Select(e => e is RouteEndpoint route
                ? new RouteEndpoint(unavailable, route.RoutePattern, route.Order, route.Metadata, $"{route.DisplayName} (plugin '{entry.Descriptor.Id}' failed)")
                : e)
            .ToList();
    }

    private static RequestDelegate Unavailable(ServerPluginDescriptor descriptor)
    {
        var problem = new ProblemDetails
        {
            Type = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            Title = "Service Unavailable",
            Status = StatusCodes.Status503ServiceUnavailable,
            Detail = $"Server plugin '{descriptor.Id}' ({descriptor.Name}) failed to initialize and is not serving requests.",
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(problem, ComposeJsonContext.Default.ProblemDetails);
        return async context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/problem+json";
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        };
    }
}

/// <summary>
/// The private route builder a plugin's group hangs from: its endpoints reach the application only through
/// the plugin's <see cref="PluginEndpointDataSource"/>.
/// </summary>
internal sealed class PluginEndpointsBuilder(IEndpointRouteBuilder application) : IEndpointRouteBuilder
{
    public IServiceProvider ServiceProvider => application.ServiceProvider;

    public ICollection<EndpointDataSource> DataSources { get; } = new List<EndpointDataSource>();

    public IApplicationBuilder CreateApplicationBuilder() => application.CreateApplicationBuilder();
}
