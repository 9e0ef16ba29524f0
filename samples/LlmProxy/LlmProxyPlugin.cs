using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Compose;
using Compose.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmProxy;

/// <summary>
/// Proxies chat requests to an OpenAI-compatible API and keeps the API key on the server: a port of Luker's
/// llm-proxy worked example, hardened as a reference plugin. Routes: <c>GET /status</c>, <c>POST /config</c>,
/// <c>POST /chat</c>. Errors are ProblemDetails whose <c>detail</c> is a fixed message: an upstream body never reaches
/// the client (it goes to the log at Debug level, with the key redacted).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description>Every request body is read (at most <see cref="LlmProxyOptions.MaxRequestBytes"/>) and vetted
/// before it is bound: malformed JSON, lone surrogates and numbers that are not finite doubles give 400, a wrong
/// Content-Type 415, a larger body 413.</description></item>
/// <item><description><c>POST /config</c> refuses control characters in any field, an <c>apiKey</c> that is not
/// printable ASCII (it becomes a header), and an <c>apiUrl</c> that names this host's own <c>/chat</c>.</description></item>
/// <item><description>The upstream response is streamed, never buffered beyond
/// <see cref="LlmProxyOptions.MaxResponseBytes"/>: a larger one is abandoned with 502.</description></item>
/// <item><description>Redirects are not followed automatically: a 307 or 308 to the same scheme is followed (at most
/// <see cref="MaxRedirects"/> times, the key sent on only to the same origin); any other redirect gives 502.</description></item>
/// <item><description>Each upstream request carries a <c>Via</c> entry naming this proxy instance; a chat request
/// that arrives with it already passed through here and is refused with 508 (a loop).</description></item>
/// </list>
/// </remarks>
/// <param name="store">The saved credentials, in the plugin store (shared by every replica with a shared backend).</param>
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

    /// <summary>How many same-scheme 307/308 redirects one chat request follows: 5.</summary>
    public const int MaxRedirects = 5;

    // How much of an upstream error body goes to the Debug log.
    private const int MaxLoggedBodyBytes = 4096;

    // This process's name in Via headers: random, so that two hosts running the plugin tell each other apart.
    private static readonly string s_viaName = "llm-proxy-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();

    /// <summary>Registers the plugin's options (from its own section), its config store, its HTTP client and its JSON metadata.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The plugin's own section, <c>Compose:Plugins:llm-proxy</c>.</param>
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LlmProxyOptions>().Bind(configuration);
        services.AddSingleton<LlmProxyConfigStore>();
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // Redirects are followed by SendAsync, and only to the same scheme. No decompression: the size limit
                // counts the bytes that arrive. No draining: an abandoned response (too large, an error body read
                // for the log) closes its connection instead of being read to the end in the background.
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                MaxResponseDrainSize = 0,
            });
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Add(LlmProxyJsonContext.Default));
    }

    /// <inheritdoc/>
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        // Return plugin status (without exposing the API key).
        router.MapGet("/status", StatusAsync);

        // Update configuration.
        router.MapPost("/config", ConfigAsync);

        // Proxy LLM requests.
        router.MapPost("/chat", ChatAsync);

        // After the routes: import a config.json of an earlier version, then say whether a configuration is saved.
        return LoadAsync(cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        await store.ImportLegacyFileAsync(cancellationToken);
        try
        {
            LlmProxyLog.Loaded(logger, await store.GetAsync(cancellationToken) is { ApiKey.Length: > 0 });
        }
        catch (PluginStoreUnavailableException ex)
        {
            // Not a failure of the plugin: every request reads the store again.
            LlmProxyLog.StoreUnavailable(logger, ex.Message, ex);
        }
    }

    /// <inheritdoc/>
    public Task ExitAsync(CancellationToken cancellationToken)
    {
        LlmProxyLog.Unloaded(logger);
        return Task.CompletedTask;
    }

    private async Task<IResult> ConfigAsync(HttpRequest request)
    {
        var http = request.HttpContext;
        var (body, error) = await RequestValidation.ReadJsonBodyAsync(http.Request, options.Value.MaxRequestBytes, http.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        ConfigRequest? fields;
        try
        {
            fields = JsonSerializer.Deserialize(body, LlmProxyJsonContext.Default.ConfigRequest);
        }
        catch (JsonException)
        {
            return Error(StatusCodes.Status400BadRequest, "Invalid JSON body: it does not have the shape of {apiUrl, apiKey, model}");
        }

        var config = new LlmProxyConfig(fields?.ApiUrl ?? "", fields?.ApiKey ?? "", fields?.Model ?? "");
        var reason = LlmProxyConfigStore.Check(config);
        if (reason is not null)
        {
            return Error(StatusCodes.Status400BadRequest, reason);
        }

        if (PointsAtOwnChat(new Uri(config.ApiUrl), http))
        {
            return Error(StatusCodes.Status400BadRequest, "apiUrl must not point at this proxy's own /chat");
        }

        try
        {
            await store.SaveAsync(config, http.RequestAborted);
        }
        catch (PluginStoreUnavailableException ex)
        {
            return StoreUnavailable(ex);
        }
        catch (ArgumentException)
        {
            // The stored JSON can be larger than the request (escaping: '<' becomes \u003C): over the store's value limit.
            return Error(StatusCodes.Status400BadRequest, $"The configuration is too large to store (at most {PluginStoreLimits.MaxValueBytes} bytes of JSON)");
        }

        return TypedResults.Ok(new OkResponse(true));
    }

    private async Task<IResult> StatusAsync(HttpRequest request)
    {
        LlmProxyConfig? config;
        try
        {
            config = await store.GetAsync(request.HttpContext.RequestAborted);
        }
        catch (PluginStoreUnavailableException ex)
        {
            return StoreUnavailable(ex);
        }

        return TypedResults.Ok(config is { ApiKey.Length: > 0 } ? new StatusResponse(true, config.Model) : new StatusResponse(false, "not set"));
    }

    // The store's message names the endpoint (no credentials) and goes to the log; the client gets a fixed text.
    private IResult StoreUnavailable(PluginStoreUnavailableException exception)
    {
        LlmProxyLog.StoreUnavailable(logger, exception.Message, exception);
        return Error(StatusCodes.Status503ServiceUnavailable, "The plugin's configuration store is unavailable; try again shortly");
    }

    private async Task<IResult> ChatAsync(HttpRequest httpRequest)
    {
        var http = httpRequest.HttpContext;
        if (http.Request.Headers.Via.Any(via => via?.Contains(s_viaName, StringComparison.Ordinal) == true))
        {
            LlmProxyLog.LoopRefused(logger);
            return Error(StatusCodes.Status508LoopDetected, "This request already passed through this proxy (a loop); check apiUrl");
        }

        LlmProxyConfig? config;
        try
        {
            config = await store.GetAsync(http.RequestAborted);
        }
        catch (PluginStoreUnavailableException ex)
        {
            return StoreUnavailable(ex);
        }

        if (config is not { ApiKey.Length: > 0 })
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "Plugin not configured. Set config via POST /config first.");
        }

        var (body, error) = await RequestValidation.ReadJsonBodyAsync(http.Request, options.Value.MaxRequestBytes, http.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        ChatRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(body, LlmProxyJsonContext.Default.ChatRequest);
        }
        catch (JsonException)
        {
            return Error(StatusCodes.Status400BadRequest, "Invalid JSON body: it does not have the shape of {messages, temperature}");
        }

        if (request is null || request.Messages.ValueKind != JsonValueKind.Array)
        {
            return Error(StatusCodes.Status400BadRequest, "Missing or invalid messages field");
        }

        var upstreamBody = JsonSerializer.SerializeToUtf8Bytes(
            new UpstreamChatRequest(config.Model, request.Messages, request.Temperature ?? 0.7),
            LlmProxyJsonContext.Default.UpstreamChatRequest);
        var via = http.Request.Headers.Via.Where(v => !string.IsNullOrEmpty(v)).Append($"1.1 {s_viaName}").ToArray();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, http.RequestAborted);
        try
        {
            return await SendAsync(config, upstreamBody, via!, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            return Error(StatusCodes.Status504GatewayTimeout, "Upstream API request timed out");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            LlmProxyLog.UpstreamUnreachable(logger, ex.Message, ex);
            return Error(StatusCodes.Status502BadGateway, "Upstream API unreachable");
        }
    }

    // Sends the chat request, following same-scheme 307/308 redirects, and reads a bounded answer.
    private async Task<IResult> SendAsync(LlmProxyConfig config, byte[] body, string[] via, CancellationToken cancellationToken)
    {
        var origin = new Uri(config.ApiUrl);
        var target = origin;
        var client = httpClientFactory.CreateClient(HttpClientName);
        for (var redirects = 0; ; redirects++)
        {
            using var upstream = new HttpRequestMessage(HttpMethod.Post, target) { Content = JsonContent(body) };
            if (Uri.Compare(target, origin, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                upstream.Headers.Authorization = new AuthenticationHeaderValue("Bearer", config.ApiKey);
            }

            foreach (var entry in via)
            {
                // A malformed entry from the client is dropped, never a 500; this proxy's own entry is always valid.
                upstream.Headers.Via.TryParseAdd(entry);
            }

            using var response = await client.SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                var next = response.Headers.Location is { } location ? (location.IsAbsoluteUri ? location : new Uri(target, location)) : null;
                var refused = status is not (307 or 308) ? "only 307 and 308 keep the request a POST"
                    : next is null ? "it has no Location"
                    : next.Scheme != target.Scheme ? $"it changes the scheme to '{next.Scheme}'"
                    : redirects >= MaxRedirects ? $"more than {MaxRedirects} redirects"
                    : null;
                if (refused is not null)
                {
                    LlmProxyLog.RedirectRefused(logger, status, refused);
                    return Error(StatusCodes.Status502BadGateway, $"Upstream API answered a redirect ({status}) that is not followed");
                }

                target = next!;
                continue;
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await LogErrorBodyAsync(status, stream, config.ApiKey, cancellationToken);
                return Error(StatusCodes.Status502BadGateway, $"Upstream API error ({status})");
            }

            var limit = options.Value.MaxResponseBytes;
            var answer = response.Content.Headers.ContentLength > limit ? null : await RequestValidation.ReadAtMostAsync(stream, limit, cancellationToken);
            if (answer is null)
            {
                LlmProxyLog.UpstreamTooLarge(logger, limit);
                return Error(StatusCodes.Status502BadGateway, $"Upstream API response exceeds {limit} bytes");
            }

            var text = ReadAnswer(answer);
            if (text is null)
            {
                LlmProxyLog.UpstreamInvalid(logger);
            }

            return string.IsNullOrEmpty(text)
                ? Error(StatusCodes.Status502BadGateway, "Upstream API returned empty response")
                : TypedResults.Ok(new ChatResponse(text));
        }
    }

    private async Task LogErrorBodyAsync(int status, Stream stream, string apiKey, CancellationToken cancellationToken)
    {
        LlmProxyLog.UpstreamError(logger, status);
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }

        var buffer = new byte[MaxLoggedBodyBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, length).Replace(apiKey, "[redacted]", StringComparison.Ordinal);
        LlmProxyLog.UpstreamErrorBody(logger, status, length, text);
    }

    // Whether apiUrl names the /chat beside the /config being called, on an address this host answers on.
    private static bool PointsAtOwnChat(Uri url, HttpContext http)
    {
        const string ConfigSuffix = "/config";
        var path = (http.Request.PathBase + http.Request.Path).Value ?? "";
        if (!path.EndsWith(ConfigSuffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var chatPath = path[..^ConfigSuffix.Length] + "/chat";
        var targetPath = Uri.UnescapeDataString(url.AbsolutePath).TrimEnd('/');
        return string.Equals(targetPath, chatPath, StringComparison.OrdinalIgnoreCase) && IsThisHost(url, http);
    }

    private static bool IsThisHost(Uri url, HttpContext http)
    {
        var ports = new HashSet<int> { http.Connection.LocalPort };
        if (http.Request.Host.Port is { } hostPort)
        {
            ports.Add(hostPort);
        }

        var addresses = http.RequestServices.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (Uri.TryCreate(address.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var bound))
            {
                ports.Add(bound.Port);
            }
        }

        if (!ports.Contains(url.Port))
        {
            return false;
        }

        var host = url.DnsSafeHost;
        if (string.Equals(host, http.Request.Host.Host, StringComparison.OrdinalIgnoreCase)
            || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!IPAddress.TryParse(host, out var ip))
        {
            return false;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(http.Connection.LocalIpAddress))
        {
            return true;
        }

        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
                .Any(unicast => unicast.Address.Equals(ip));
        }
        catch (NetworkInformationException)
        {
            return false; // The Via loop guard still stops a loop at the first /chat.
        }
    }

    private static ByteArrayContent JsonContent(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    /// <summary>Reads <c>choices[0].message.content</c>; null when the body is not that shape or not valid JSON or Unicode.</summary>
    private static string? ReadAnswer(byte[] body)
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
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static IResult Error(int status, string message) => RequestValidation.Problem(status, message);
}
