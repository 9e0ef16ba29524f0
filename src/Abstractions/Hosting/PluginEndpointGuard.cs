using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.Hosting;

/// <summary>
/// Turns an unhandled exception from one plugin's endpoint into a 500 <c>application/problem+json</c> response that
/// names the plugin and carries no exception text, logged once with the plugin id and the request path. Used outside
/// the Development environment while <see cref="ComposeOptions.HandleExceptions"/> is on; in Development exceptions
/// propagate to the developer exception page, as in any ASP.NET Core app.
/// </summary>
/// <remarks>
/// The guard wraps each endpoint's <see cref="RequestDelegate"/> when routing builds its tables. A request that
/// completes synchronously pays one delegate call and one <see cref="Task.IsCompletedSuccessfully"/> check; only an
/// asynchronous one adds a state machine. The response goes through the host's <see cref="IProblemDetailsService"/>
/// when it has one (so <c>AddProblemDetails</c> customisations apply), otherwise it is written from a body
/// serialised once. A <see cref="BadHttpRequestException"/> keeps its own status code. An exception after the response
/// has started cannot become a ProblemDetails body: it is logged and the connection aborted. An
/// <see cref="OperationCanceledException"/> of a request the client aborted is not an error.
/// </remarks>
internal sealed class PluginEndpointGuard(ServerPluginDescriptor descriptor, ILogger logger)
{
    private readonly string _detail = $"Server plugin '{descriptor.Id}' ({descriptor.Name}) failed to process the request.";
    private byte[]? _body;

    public RequestDelegate Wrap(RequestDelegate inner) => context =>
    {
        Task task;
        try
        {
            task = inner(context);
        }
        catch (Exception ex)
        {
            return HandleAsync(context, ex);
        }

        return task.IsCompletedSuccessfully ? Task.CompletedTask : AwaitAsync(task, context);
    };

    private async Task AwaitAsync(Task task, HttpContext context)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await HandleAsync(context, ex).ConfigureAwait(false);
        }
    }

    private Task HandleAsync(HttpContext context, Exception exception)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask; // the client went away
        }

        var path = context.Request.Path.Value ?? string.Empty;
        if (context.Response.HasStarted)
        {
            Log.HandlerFailedAfterStart(logger, exception, descriptor.Id, descriptor.Name, context.Request.Method, path);
            context.Abort();
            return Task.CompletedTask;
        }

        var status = exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
        if (status >= StatusCodes.Status500InternalServerError)
        {
            Log.HandlerFailed(logger, exception, descriptor.Id, descriptor.Name, context.Request.Method, path);
        }

        context.Response.Clear();
        return WriteAsync(context, status);
    }

    private async Task WriteAsync(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        if (context.RequestServices?.GetService<IProblemDetailsService>() is { } problems)
        {
            var written = await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails { Status = status, Detail = _detail },
            }).ConfigureAwait(false);
            if (written)
            {
                return;
            }
        }

        var body = status == StatusCodes.Status500InternalServerError
            ? _body ??= ProblemBody.Serialize(status, "An error occurred while processing your request.", _detail)
            : ProblemBody.Serialize(status, ReasonPhrases.GetReasonPhrase(status), _detail);
        await ProblemBody.WriteAsync(context, status, body).ConfigureAwait(false);
    }
}
