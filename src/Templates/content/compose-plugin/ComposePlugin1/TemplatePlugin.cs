using System.Text.Json;
using System.Text.Json.Serialization;
using Compose;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComposePlugin1;

/// <summary>
/// The plugin-id server plugin. Its routes live under <c>/api/plugins/plugin-id/</c>:
/// <c>GET greeting?name=Ada</c> answers <c>{ "message": "Hello, Ada!" }</c>, and <c>POST echo</c> with
/// <c>{ "text": "hi" }</c> answers <c>{ "text": "hi", "length": 2 }</c> (a 400 problem when the text is missing).
/// </summary>
/// <param name="settings">The plugin's settings, read from its configuration section.</param>
/// <param name="logger">The plugin's logger.</param>
[ServerPlugin("plugin-id", Name = "ComposePlugin1", Description = "A Compose server plugin")]
public sealed class TemplatePlugin(TemplatePluginSettings settings, ILogger<TemplatePlugin> logger) : IServerPlugin
{
    /// <summary>
    /// Registers the plugin's own services. <paramref name="configuration"/> is its section,
    /// <c>Compose:Plugins:plugin-id</c> (for example <c>"Greeting": "Hi"</c> in appsettings.json).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The plugin's configuration section.</param>
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(new TemplatePluginSettings(configuration["Greeting"] ?? "Hello"));

        // Source-generated JSON for the plugin's types: no reflection, so a Native AOT host serves them.
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Add(TemplatePluginJsonContext.Default));
    }

    /// <summary>Maps the plugin's routes. Register them here, before the first <c>await</c>.</summary>
    /// <param name="router">The plugin's route group, <c>/api/plugins/plugin-id</c>.</param>
    /// <param name="cancellationToken">Signalled when the host stops during start-up.</param>
    /// <returns>A completed task: nothing to wait for.</returns>
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/greeting", (string? name) => new Greeting($"{settings.Greeting}, {(string.IsNullOrWhiteSpace(name) ? "world" : name)}!"));
        router.MapPost("/echo", Results<Ok<EchoResponse>, ProblemHttpResult> (EchoRequest request) =>
            string.IsNullOrWhiteSpace(request.Text)
                ? TypedResults.Problem("The request needs a non-empty \"text\".", statusCode: StatusCodes.Status400BadRequest)
                : TypedResults.Ok(new EchoResponse(request.Text, request.Text.Length)));
        logger.LogInformation("[plugin-id] Greeting with \"{Greeting}\".", settings.Greeting);
        return Task.CompletedTask;
    }

    /// <summary>Called once when the host stops; release what the plugin holds here.</summary>
    /// <param name="cancellationToken">Signalled when the host's shutdown timeout passes.</param>
    /// <returns>A completed task.</returns>
    public Task ExitAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("[plugin-id] Stopped.");
        return Task.CompletedTask;
    }
}

/// <summary>The plugin's settings.</summary>
/// <param name="Greeting">The word it greets with (setting <c>Greeting</c>, default <c>Hello</c>).</param>
public sealed record TemplatePluginSettings(string Greeting);

/// <summary>The body of <c>GET greeting</c>.</summary>
/// <param name="Message">The greeting.</param>
public sealed record Greeting(string Message);

/// <summary>The body of <c>POST echo</c>.</summary>
/// <param name="Text">The text to echo.</param>
public sealed record EchoRequest(string? Text);

/// <summary>The answer of <c>POST echo</c>.</summary>
/// <param name="Text">The text received.</param>
/// <param name="Length">Its length in UTF-16 code units.</param>
public sealed record EchoResponse(string Text, int Length);

[JsonSerializable(typeof(Greeting))]
[JsonSerializable(typeof(EchoRequest))]
[JsonSerializable(typeof(EchoResponse))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class TemplatePluginJsonContext : JsonSerializerContext;
