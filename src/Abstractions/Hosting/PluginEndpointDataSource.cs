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
/// group the first time routing reads the endpoints of the failed plugin, so a plugin that serves never builds it)
/// answers the rest. A state change fires the change token, so routing rebuilds its tables once; nothing is checked
/// per request. A hot reload that initialises the plugin again replaces its sources and group
/// (<see cref="ReplaceSources"/>), through the same change token.
/// </summary>
/// <remarks>
/// Reading the endpoints and mapping the catch-all hold one lock: the group's route list is only ever read through
/// this data source (its builder is private), so the list is never changed while routing enumerates it.
/// </remarks>
internal sealed class PluginEndpointDataSource(
    ServerPluginEntry entry,
    IReadOnlyList<EndpointDataSource> sources,
    RouteGroupBuilder? group,
    PluginEndpointGuard? guard,
    bool countsRoutes = true) : EndpointDataSource
{
    private readonly object _gate = new();
    private CancellationTokenSource _changed = new();
    private IReadOnlyList<EndpointDataSource> _sources = sources;
    private RouteGroupBuilder? _group = group;
    private bool _fallbackMapped;

    public override IReadOnlyList<Endpoint> Endpoints => Read(static (source, _) => source.Endpoints, context: null);

    public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context)
        => Read(static (source, context) => source.GetGroupedEndpoints(context!), context);

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
    /// reload, mapped in <paramref name="group"/>) and fires the change token. The new sources are in place before the
    /// token fires, so a router that read the old endpoints holds a token that fires; requests already routed finish on
    /// the old endpoints.
    /// </summary>
    public void ReplaceSources(IReadOnlyList<EndpointDataSource> sources, RouteGroupBuilder group)
    {
        lock (_gate)
        {
            (_sources, _group, _fallbackMapped) = (sources, group, false);
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

    private IReadOnlyList<Endpoint> Read(Func<EndpointDataSource, RouteGroupContext?, IReadOnlyList<Endpoint>> read, RouteGroupContext? context)
    {
        lock (_gate)
        {
            var state = entry.State;
            if (state == ServerPluginState.Failed && !_fallbackMapped && _group is { } failedGroup)
            {
                UnavailableFallback.MapOn(failedGroup, entry.Descriptor);
                _fallbackMapped = true;
            }

            var all = new List<Endpoint>();
            foreach (var source in _sources)
            {
                all.AddRange(read(source, context));
            }

            return Present(all, state);
        }
    }

    private List<Endpoint> Present(List<Endpoint> all, ServerPluginState state)
    {
        if (_fallbackMapped && state != ServerPluginState.Failed)
        {
            all.RemoveAll(UnavailableFallback.Marks); // it failed once and serves again on the same group
        }

        if (countsRoutes)
        {
            entry.RouteCount = _fallbackMapped ? all.Count(e => !UnavailableFallback.Marks(e)) : all.Count;
        }

        if (state == ServerPluginState.Disabled)
        {
            return [];
        }

        if (state == ServerPluginState.Failed)
        {
            var unavailable = Unavailable(entry.UnavailableDetail);
            return all.ConvertAll(e => Replace(e, unavailable, $"{e.DisplayName} (plugin '{entry.Descriptor.Id}' failed)"));
        }

        if (guard is not null)
        {
            for (var i = 0; i < all.Count; i++)
            {
                if (all[i].RequestDelegate is { } handler)
                {
                    all[i] = Replace(all[i], guard.Wrap(handler, (all[i] as RouteEndpoint)?.RoutePattern.RawText), all[i].DisplayName);
                }
            }
        }

        return all;
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
/// Metadata of the catch-all route <c>{RoutePrefix}/{id}/{**rest}</c> a failed plugin's group gets, so every path
/// under its prefix answers 503, whether or not it mapped routes; hidden if the plugin serves again on the same group
/// (so unknown paths answer 404 there).
/// </summary>
internal sealed class UnavailableFallback
{
    public const string Pattern = "/{**compose_rest}";

    public static readonly UnavailableFallback Instance = new();

    public static bool Marks(Endpoint endpoint) => endpoint.Metadata.GetMetadata<UnavailableFallback>() is not null;

    /// <summary>Maps the catch-all on the plugin's group; its handler is replaced by the 503 of the failed plugin.</summary>
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
