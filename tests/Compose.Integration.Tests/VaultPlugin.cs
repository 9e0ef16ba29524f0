namespace Compose.Integration.Tests;

/// <summary>Stores and serves files only through the context's file helpers; every path comes from the request.</summary>
[ServerPlugin("vault")]
public sealed class VaultPlugin(IServerPluginContext context) : IServerPlugin
{
    public IServerPluginContext Context => context;

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/files/{**path}", async (string path, HttpResponse response) =>
        {
            try
            {
                await using var file = context.OpenRead(path);
                response.ContentType = "text/plain";
                await file.CopyToAsync(response.Body);
                return Results.Empty;
            }
            catch (UnauthorizedAccessException ex)
            {
                return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status403Forbidden);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return Results.NotFound();
            }
        });
        router.MapPut("/files/{**path}", async (string path, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            try
            {
                await context.WriteAllBytesAtomicAsync(path, body.ToArray(), request.HttpContext.RequestAborted);
            }
            catch (UnauthorizedAccessException ex)
            {
                return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status403Forbidden);
            }

            return Results.NoContent();
        });
        return Task.CompletedTask;
    }
}
