using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace Compose.Hosting;

/// <summary>
/// The endpoints of one plugin, as the router sees them. While the plugin serves they pass through, each guarded by
/// the plugin's <see cref="PluginEndpointGuard"/> when it has one; while it is switched off by configuration there are
/// none (404); when it has failed, every path under its prefix answers 503 with a ProblemDetails body naming it: its
/// own routes keep their patterns, and a catch-all route (<see cref="UnavailableFallback"/>, mapped in the plugin's
/// group before its <c>InitAsync</c> ran, and hidden while it serves) answers the rest. A state change fires the
/// change token, so routing rebuilds its tables once; nothing is checked per request. A hot reload that initialises the
/// plugin again replaces its sources (<see cref="ReplaceSources"/>), through the same change token.
/// </summary>
internal sealed class PluginEndpointDataSource(
    ServerPluginEntry entry,
    IReadOnlyList<EndpointDataSource> sources,
    PluginEndpointGuard? guard,
    bool countsRoutes = true) : EndpointDataSource
{
    private readonly object _gate = new();
    private CancellationTokenSource _changed = new();
    private IReadOnlyList<EndpointDataSource> _sources = sources;

    public override IReadOnlyList<Endpoint> Endpoints => Present(Volatile.Read(ref _sources).SelectMany(s => s.Endpoints));

    public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context)
        => Present(Volatile.Read(ref _sources).SelectMany(s => s.GetGroupedEndpoints(context)));

    public override IChangeToken GetChangeToken()
    {
        lock (_gate)
        {
            var sources = _sources;
            var tokens = new List<IChangeToken>(sources.Count + 1) { new CancellationChangeToken(_changed.Token) };
            tokens.AddRange(sources.Select(s => s.GetChangeToken()));
            return new CompositeChangeToken(tokens);
        }
    }

    /// <summary>
    /// Serves <paramref name="sources"/> instead of the current ones (the routes of the plugin's new instance after a hot
    /// reload) and fires the change token. The new sources are in place before the token fires, so a router that read the
    /// old endpoints holds a token that fires; requests already routed finish on the old endpoints.
    /// </summary>
    public void ReplaceSources(IReadOnlyList<EndpointDataSource> sources)
    {
        lock (_gate)
        {
            _sources = sources;
        }

        NotifyChanged();
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
            entry.RouteCount = all.Count(e => !UnavailableFallback.Marks(e));
        }

        switch (entry.State)
        {
            case ServerPluginState.Disabled:
                return [];
            case ServerPluginState.Failed:
                var unavailable = Unavailable(entry.UnavailableDetail);
                return all.Select(e => Replace(e, unavailable, $"{e.DisplayName} (plugin '{entry.Descriptor.Id}' failed)")).ToList();
            default:
                return all
                    .Where(e => !UnavailableFallback.Marks(e))
                    .Select(e => guard is null || e.RequestDelegate is not { } handler ? e : Replace(e, guard.Wrap(handler, (e as RouteEndpoint)?.RoutePattern.RawText), e.DisplayName))
                    .ToList();
        }
    }

    private static Endpoint Replace(Endpoint endpoint, RequestDelegate handler, string? displayName)
        => endpoint is RouteEndpoint route
            ? new RouteEndpoint(handler, route.RoutePattern, route.Order, route.Metadata, displayName)
            : endpoint;

    private static RequestDelegate Unavailable(string detail)
    {
        var body = ProblemBody.Serialize(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", detail);
        return context => ProblemBody.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, body);
    }
}

/// <summary>
/// Metadata of the catch-all route <c>{RoutePrefix}/{id}/{**rest}</c> every plugin's group gets: hidden while the
/// plugin serves (so unknown paths answer 404), answering 503 once it has failed, whether or not it mapped routes.
/// </summary>
internal sealed class UnavailableFallback
{
    public const string Pattern = "/{**compose_rest}";

    public static readonly UnavailableFallback Instance = new();

    public static bool Marks(Endpoint endpoint) => endpoint.Metadata.GetMetadata<UnavailableFallback>() is not null;

    /// <summary>Maps the catch-all on the plugin's group; its handler is replaced by a 503 when the plugin fails.</summary>
    public static void MapOn(IEndpointRouteBuilder group, ServerPluginDescriptor descriptor)
        => group.Map(Pattern, static _ => Task.CompletedTask)
            .WithMetadata(Instance)
            .WithDisplayName($"Unavailable fallback of server plugin '{descriptor.Id}'")
            .ExcludeFromDescription();
}

/// <summary>A ProblemDetails body serialised once, with source-generated metadata, and written as <c>application/problem+json</c>.</summary>
internal static class ProblemBody
{
    public static byte[] Serialize(int status, string title, string detail)
        => JsonSerializer.SerializeToUtf8Bytes(
            new ProblemDetails
            {
                Type = status switch
                {
                    StatusCodes.Status400BadRequest => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                    StatusCodes.Status500InternalServerError => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
                    StatusCodes.Status503ServiceUnavailable => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                    _ => null,
                },
                Title = title,
                Status = status,
                Detail = detail,
            },
            ComposeJsonContext.Default.ProblemDetails);

    public static Task WriteAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
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
