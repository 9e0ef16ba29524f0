using System.Net.Http.Headers;
using System.Text.Json;
using Compose;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmProxy;

/// <summary>
/// Proxies chat requests to an OpenAI-compatible API and keeps the API key on the server: a port of Luker's
/// llm-proxy worked example. Routes: <c>GET /status</c>, <c>POST /config</c>, <c>POST /chat</c>. Errors are
/// ProblemDetails whose <c>detail</c> carries the message the Luker plugin puts in <c>error</c>.
/// </summary>
/// <param name="store">The saved credentials.</param>
/// <param name="httpClientFactory">Creates the upstream client.</param>
/// <param name="options">The plugin's settings.</param>
/// <param name="logger">The plugin's logger.</param>
[ServerPlugin(Id, Name = "LLM API Proxy", Description = "Proxies LLM API requests with server-side credential storage")]
public sealed class LlmProxyPlugin(
    LlmProxyConfigStore store,
    IHttpClientFactory httpClientFactory,
    IOptions<LlmProxyOptions> options,
    ILogger<LlmProxyPlugin> logger) : IServerPlugin
{
    /// <summary>The plugin id.</summary>
    public const string Id = "llm-proxy";

    /// <summary>The name of the plugin's <see cref="HttpClient"/>.</summary>
    public const string HttpClientName = Id;

    private const int MaxErrorBodyLength = 200;

    /// <summary>Registers the plugin's options (from its own section), its config store, its HTTP client and its JSON metadata.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The plugin's own section, <c>Compose:Plugins:llm-proxy</c>.</param>
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LlmProxyOptions>().Bind(configuration);
        services.AddSingleton<LlmProxyConfigStore>();
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Add(LlmProxyJsonContext.Default));
    }

    /// <inheritdoc/>
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        store.Load();

        // Return plugin status (without exposing the API key).
        router.MapGet("/status", () => store.Current is { ApiKey.Length: > 0 } config
            ? new StatusResponse(true, config.Model)
            : new StatusResponse(false, store.Current?.Model ?? "not set"));

        // Update configuration.
        router.MapPost("/config", (ConfigRequest request) =>
        {
            if (string.IsNullOrWhiteSpace(request.ApiUrl) || string.IsNullOrWhiteSpace(request.ApiKey) || string.IsNullOrWhiteSpace(request.Model))
            {
                return Error(StatusCodes.Status400BadRequest, "Missing required fields: apiUrl, apiKey, model");
            }

            if (!Uri.TryCreate(request.ApiUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                return Error(StatusCodes.Status400BadRequest, "apiUrl must be an absolute http or https URL");
            }

            store.Save(new LlmProxyConfig(request.ApiUrl, request.ApiKey, request.Model));
            return TypedResults.Ok(new OkResponse(true));
        });

        // Proxy LLM requests.
        router.MapPost("/chat", ChatAsync);

        logger.LogInformation("[llm-proxy] Plugin loaded. Configured: {Configured}", store.Current is { ApiKey.Length: > 0 });
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task ExitAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("[llm-proxy] Plugin unloaded.");
        return Task.CompletedTask;
    }

    private async Task<IResult> ChatAsync(ChatRequest request, CancellationToken requestAborted)
    {
        if (store.Current is not { ApiKey.Length: > 0 } config)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "Plugin not configured. Set config via POST /config first.");
        }

        if (request.Messages.ValueKind != JsonValueKind.Array)
        {
            return Error(StatusCodes.Status400BadRequest, "Missing or invalid messages field");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, requestAborted);
        try
        {
            using var upstream = new HttpRequestMessage(HttpMethod.Post, config.ApiUrl)
            {
                Content = JsonContent(new UpstreamChatRequest(config.Model, request.Messages, request.Temperature ?? 0.7)),
            };
            upstream.Headers.Authorization = new AuthenticationHeaderValue("Bearer", config.ApiKey);

            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(upstream, linked.Token);
            var body = await response.Content.ReadAsStringAsync(linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                return Error(StatusCodes.Status502BadGateway, $"Upstream API error ({(int)response.StatusCode}): {Truncate(body)}");
            }

            var text = ReadAnswer(body);
            return string.IsNullOrEmpty(text)
                ? Error(StatusCodes.Status502BadGateway, "Upstream API returned empty response")
                : TypedResults.Ok(new ChatResponse(text));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !requestAborted.IsCancellationRequested)
        {
            return Error(StatusCodes.Status504GatewayTimeout, "Upstream API request timed out");
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning(ex, "[llm-proxy] Upstream request to {Url} failed: {Message}", config.ApiUrl, ex.Message);
            return Error(StatusCodes.Status502BadGateway, $"Upstream API unreachable: {ex.Message}");
        }
    }

    private static ByteArrayContent JsonContent(UpstreamChatRequest request)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, LlmProxyJsonContext.Default.UpstreamChatRequest));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    /// <summary>Reads <c>choices[0].message.content</c>; null when the body is not that shape.</summary>
    private static string? ReadAnswer(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("choices", out var choices)
                   && choices.ValueKind == JsonValueKind.Array
                   && choices.GetArrayLength() > 0
                   && choices[0].ValueKind == JsonValueKind.Object
                   && choices[0].TryGetProperty("message", out var message)
                   && message.ValueKind == JsonValueKind.Object
                   && message.TryGetProperty("content", out var content)
                   && content.ValueKind == JsonValueKind.String
                ? content.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Truncate(string body) => body.Length <= MaxErrorBodyLength ? body : body[..MaxErrorBodyLength];

    private static IResult Error(int status, string message) => TypedResults.Problem(detail: message, statusCode: status);
}
