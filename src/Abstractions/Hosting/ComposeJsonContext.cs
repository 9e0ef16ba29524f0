using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Compose.Hosting;

/// <summary>
/// Source-generated JSON metadata for what Compose and its plugins write without a context of their own:
/// ProblemDetails, the error convention of plugin routes. Appended to the host's HTTP JSON options, so
/// <c>TypedResults.Problem</c> works in a plugin under Native AOT or with reflection-based JSON switched off.
/// </summary>
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class ComposeJsonContext : JsonSerializerContext;
