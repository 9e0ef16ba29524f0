using System.Text.Json;
using System.Text.Json.Serialization;
using Compose;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace HelloWorld;

/// <summary>
/// A minimal server plugin, ported from Luker's "Hello World" worked example:
/// <c>GET /api/plugins/hello-world/hello</c> returns <c>{ "message": "...", "time": "..." }</c>. Its frontend half,
/// <c>wwwroot/index.js</c>, is served at <c>/plugins/hello-world/index.js</c> and named in the plugin catalog.
/// </summary>
/// <param name="logger">The plugin's logger.</param>
/// <param name="timeProvider">The clock the greeting's time comes from.</param>
[ServerPlugin("hello-world", Name = "Hello World", Description = "A minimal server plugin example", EntryScript = "index.js")]
public sealed class HelloWorldPlugin(ILogger<HelloWorldPlugin> logger, TimeProvider timeProvider) : IServerPlugin
{
    /// <summary>Registers the plugin's JSON metadata (source-generated, so the handler is AOT-safe) and a clock.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The plugin's own section, <c>Compose:Plugins:hello-world</c>.</param>
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Add(HelloWorldJsonContext.Default));
        services.TryAddSingleton(TimeProvider.System);
    }

    /// <inheritdoc/>
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/hello", () => new Greeting("Hello from server plugin!", timeProvider.GetUtcNow()));
        logger.LogInformation("[hello-world] Plugin loaded.");
        return Task.CompletedTask;
    }
}

/// <summary>The body of <c>GET /hello</c>.</summary>
/// <param name="Message">The greeting.</param>
/// <param name="Time">When the greeting was made (UTC, ISO 8601).</param>
public sealed record Greeting(string Message, DateTimeOffset Time);

[JsonSerializable(typeof(Greeting))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class HelloWorldJsonContext : JsonSerializerContext;
