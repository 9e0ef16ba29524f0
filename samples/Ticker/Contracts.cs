using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ticker;

/// <summary>The body of <c>POST /notes</c>: <c>{ "text": "..." }</c>, at most <see cref="TickerPlugin.MaxRequestBodyBytes"/> bytes.</summary>
/// <param name="Text">The note.</param>
public sealed record NoteRequest(string? Text);

/// <summary>The answer of <c>POST /notes</c>: <c>{ "received": true, "length": 5 }</c>.</summary>
/// <param name="Received">Always true.</param>
/// <param name="Length">The length of the note's text, in characters.</param>
public sealed record NoteResponse(bool Received, int Length);

/// <summary>The plugin's JSON metadata, source-generated so its handlers are trim- and AOT-safe.</summary>
[JsonSerializable(typeof(TickSnapshot))]
[JsonSerializable(typeof(NoteRequest))]
[JsonSerializable(typeof(NoteResponse))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class TickerJsonContext : JsonSerializerContext;
