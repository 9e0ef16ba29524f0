using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.Hosting;

/// <summary>
/// Wraps each endpoint of one plugin: names the plugin on the request's telemetry (the <c>compose.plugin.id</c> tag on
/// ASP.NET Core's <c>http.server.request.duration</c> and on the request activity), runs the handler inside the
/// plugin's log scope (<c>PluginId</c>, <c>PluginRoute</c>), and, when <paramref name="handleExceptions"/> is on (outside
/// the Development environment while <see cref="ComposeOptions.HandleExceptions"/> is on), turns an unhandled
/// exception into a 500 <c>application/problem+json</c> response that names the plugin and carries no exception text,
/// logged once with the plugin id and the request path. In Development exceptions propagate to the developer
/// exception page, as in any ASP.NET Core app.
/// </summary>
/// <remarks>
/// The wrapper is applied to each endpoint's <see cref="RequestDelegate"/> when routing builds its tables, with the
/// plugin id and the route captured, so nothing is looked up per request: a metrics-tags feature read while a listener
/// collects the hosting metrics (<see cref="ComposeInstruments.HostingMetricsMayBeCollected"/>), a tag on the request activity only when an
/// <see cref="ActivityListener"/> records it (ASP.NET Core also starts an activity when only logging is on, to put trace
/// ids on log scopes; a tag there would be an allocation nobody reads), a scope push, one delegate call and one
/// <see cref="Task.IsCompletedSuccessfully"/> check; only an asynchronous handler adds a state machine. The response goes through the host's <see cref="IProblemDetailsService"/>
/// when it has one (so <c>AddProblemDetails</c> customisations apply), otherwise it is written from a body
/// serialised once. A <see cref="BadHttpRequestException"/> keeps its own status code. An exception after the response
/// has started cannot become a ProblemDetails body: it is logged and the connection aborted. An
/// <see cref="OperationCanceledException"/> of a request the client aborted is not an error.
/// </remarks>
internal sealed class PluginEndpointGuard(ServerPluginDescriptor descriptor, ILogger logger, bool handleExceptions, ComposeInstruments instruments)
{
    private readonly string _detail = $"Server plugin '{descriptor.Id}' ({descriptor.Name}) failed to process the request.";
    private readonly KeyValuePair<string, object?> _tag = new(ComposeTelemetry.PluginIdTag, descriptor.Id);
    private byte[]? _body;

    /// <summary>Wraps one endpoint's handler; <paramref name="route"/> is its route pattern, for the log scope.</summary>
    public RequestDelegate Wrap(RequestDelegate inner, string? route)
    {
        var scope = new PluginLogScope(descriptor.Id, route);
        return context =>
        {
            if (instruments.HostingMetricsMayBeCollected)
            {
                context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(_tag);
            }

            if (Activity.Current is { IsAllDataRequested: true } activity && activity.Source.HasListeners())
            {
                activity.SetTag(ComposeTelemetry.PluginIdTag, descriptor.Id);
            }

            var pushed = scope.Begin(logger);
            Task task;
            try
            {
                task = inner(context);
            }
            catch (Exception ex) when (handleExceptions)
            {
                task = HandleAsync(context, ex);
            }
            catch
            {
                pushed?.Dispose();
                throw;
            }

            if (task.IsCompletedSuccessfully)
            {
                pushed?.Dispose();
                return Task.CompletedTask;
            }

            return AwaitAsync(task, context, pushed);
        };
    }

    private async Task AwaitAsync(Task task, HttpContext context, IDisposable? scope)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (handleExceptions)
        {
            await HandleAsync(context, ex).ConfigureAwait(false);
        }
        finally
        {
            scope?.Dispose();
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
