using Compose.Store;

namespace Compose.Integration.Tests;

/// <summary>Keeps request bodies in <see cref="IServerPluginContext.Store"/> under keys taken from the request path.</summary>
[ServerPlugin("kv")]
public sealed class StorePlugin(IServerPluginContext context) : IServerPlugin
{
    /// <summary>The largest body accepted: the store's value limit.</summary>
    public const long MaxBody = PluginStoreLimits.MaxValueBytes;

    public IServerPluginContext Context => context;

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/kv/{**key}", async (string key, CancellationToken ct) =>
        {
            try
            {
                return await context.Store.GetAsync(key, ct) is { } entry
                    ? Results.Bytes(entry.Value.ToArray(), "application/octet-stream")
                    : Results.NotFound();
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        });
        router.MapPut("/kv/{**key}", async (string key, HttpRequest request, CancellationToken ct) =>
        {
            if (request.ContentLength > MaxBody)
            {
                return Results.Problem(detail: $"A value holds at most {MaxBody} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);
            }

            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            try
            {
                var version = await context.Store.SetAsync(key, buffer.ToArray(), cancellationToken: ct);
                return Results.Ok(version);
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        });
        return Task.CompletedTask;
    }
}
