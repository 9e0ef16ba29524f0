using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Compose.Generator;

/// <summary>A source location carried as data (never a <see cref="Location"/>, which would defeat caching).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
        => location is { SourceTree: not null }
            ? new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span)
            : null;
}

/// <summary>A diagnostic found while parsing, reported by its own pipeline step.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    /// <summary>The key of the suggested plugin id in a CMP0001 diagnostic's properties, read by its code fix.</summary>
    public const string SuggestedIdProperty = "SuggestedId";

    /// <summary>A valid id to offer instead of the invalid one (CMP0001 only).</summary>
    public string? SuggestedId { get; init; }

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
        => new(descriptor, location, arguments.ToEquatableArray());

    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(
            Descriptor,
            Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None,
            SuggestedId is null ? null : ImmutableDictionary<string, string?>.Empty.Add(SuggestedIdProperty, SuggestedId),
            Arguments.ToArray<object>());
}

/// <summary>One constructor parameter of a plugin class, resolved from dependency injection.</summary>
/// <param name="TypeName">The parameter type, fully qualified with <c>global::</c>.</param>
/// <param name="ServiceKey">The C# literal of its <c>[FromKeyedServices]</c> key, or null.</param>
/// <param name="IsOptional">Whether the parameter defaults to null, so a missing service is allowed.</param>
internal sealed record DependencyModel(string TypeName, string? ServiceKey, bool IsOptional);

/// <summary>Everything the emitters need to know about one plugin, whether declared here or in a reference.</summary>
internal sealed record PluginModel(
    string Id,
    string? Name,
    string? Description,
    string TypeName,
    string DisplayTypeName,
    bool IsComposable,
    EquatableArray<DependencyModel> Dependencies,
    bool HasConfigureServices,
    bool HasExitAsync,
    EquatableArray<string> Errors,
    LocationInfo? Location)
{
    /// <summary>The simple name of the declaring assembly; empty for the compilation's own plugins.</summary>
    public string AssemblyName { get; init; } = string.Empty;

    /// <summary>The informational version of the declaring assembly; empty for the compilation's own plugins.</summary>
    public string Version { get; init; } = string.Empty;

    /// <summary>The host environments the plugin is meant for (<c>[ServerPlugin(Environments = ...)]</c>); empty for all.</summary>
    public EquatableArray<string> Environments { get; init; } = EquatableArray<string>.Empty;

    /// <summary>The ids of the plugins this one depends on (<c>[ServerPlugin(DependsOn = ...)]</c>); empty for none.</summary>
    public EquatableArray<string> DependsOn { get; init; } = EquatableArray<string>.Empty;

    /// <summary>The entry script of the plugin's web assets (<c>[ServerPlugin(EntryScript = ...)]</c>), or null.</summary>
    public string? EntryScript { get; init; }

    /// <summary>Where the plugin package's web assets land in a host's web root (<c>_content/{PackageId}</c>), or null.</summary>
    public string? WebAssetsPath { get; init; }

    /// <summary>The Compose version recorded in a referenced manifest; null for own plugins.</summary>
    public string? ComposeVersion { get; init; }

    public bool IsReferenced => Location is null && AssemblyName.Length > 0;
}

/// <summary>The result of parsing one <c>[ServerPlugin]</c> declaration.</summary>
internal sealed record OwnPluginResult(PluginModel? Plugin, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>What the host emitter needs from the compilation itself.</summary>
internal sealed record CompilationModel(
    bool ReferencesCompose,
    string AssemblyName,
    string Version,
    bool IsExecutable,
    string? ComposeAbstractionsVersion,
    EquatableArray<PluginModel> ReferencedPlugins)
{
    public static readonly CompilationModel None = new(false, string.Empty, string.Empty, false, null, EquatableArray<PluginModel>.Empty);
}
