using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmProxy;

/// <summary>The saved upstream settings (the store entry <c>config</c>; earlier versions: <c>config.json</c>).</summary>
/// <param name="ApiUrl">The full URL of the OpenAI-compatible chat completions endpoint, e.g. <c>https://api.example.com/v1/chat/completions</c>.</param>
/// <param name="ApiKey">The API key, sent as a bearer token; never returned by any endpoint.</param>
/// <param name="Model">The model name sent with every request.</param>
public sealed record LlmProxyConfig(string ApiUrl, string ApiKey, string Model);

/// <summary>The body of <c>POST /config</c>.</summary>
/// <param name="ApiUrl">The chat completions URL.</param>
/// <param name="ApiKey">The API key.</param>
/// <param name="Model">The model.</param>
public sealed record ConfigRequest(string? ApiUrl, string? ApiKey, string? Model);

/// <summary>The body of <c>GET /status</c>: whether a key is configured and which model; never the key.</summary>
/// <param name="Configured">Whether an API key is saved.</param>
/// <param name="Model">The saved model, or <c>not set</c>.</param>
public sealed record StatusResponse(bool Configured, string Model);

/// <summary>The body of a successful <c>POST /config</c>.</summary>
/// <param name="Ok">Always true.</param>
public sealed record OkResponse(bool Ok);

/// <summary>The body of <c>POST /chat</c>.</summary>
/// <param name="Messages">The chat messages, forwarded as they are; must be a JSON array.</param>
/// <param name="Temperature">The sampling temperature; 0.7 when absent.</param>
public sealed record ChatRequest(JsonElement Messages, double? Temperature);

/// <summary>The body of a successful <c>POST /chat</c>.</summary>
/// <param name="Text">The assistant's answer (<c>choices[0].message.content</c> of the upstream response).</param>
public sealed record ChatResponse(string Text);

/// <summary>The request sent upstream.</summary>
/// <param name="Model">The configured model.</param>
/// <param name="Messages">The client's messages.</param>
/// <param name="Temperature">The sampling temperature.</param>
public sealed record UpstreamChatRequest(string Model, JsonElement Messages, double Temperature);

[JsonSerializable(typeof(LlmProxyConfig))]
[JsonSerializable(typeof(ConfigRequest))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(OkResponse))]
[JsonSerializable(typeof(ChatRequest))]
[JsonSerializable(typeof(ChatResponse))]
[JsonSerializable(typeof(UpstreamChatRequest))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class LlmProxyJsonContext : JsonSerializerContext;
