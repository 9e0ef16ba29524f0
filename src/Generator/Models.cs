using Microsoft.CodeAnalysis;

namespace Compose.Generator;

/// <summary>A diagnostic of the composition (host build), reported by its own pipeline step; it has no source location.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, params string[] arguments)
        => new(descriptor, arguments.ToEquatableArray());

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location.None, Arguments.ToArray<object>());
}

/// <summary>A referenced manifest's claim that its plugin class contradicts (CMP0020).</summary>
/// <param name="Claim">What the manifest says, for example <c>HasExitAsync = true</c>.</param>
/// <param name="Actual">What the class does instead, for example <c>does not declare its own ExitAsync(CancellationToken)</c>.</param>
internal sealed record ManifestMismatch(string Claim, string Actual);

/// <summary>One constructor parameter of a plugin class, resolved from dependency injection.</summary>
/// <param name="TypeName">The parameter type, fully qualified with <c>global::</c>.</param>
/// <param name="ServiceKey">The C# literal of its <c>[FromKeyedServices]</c> key, or null.</param>
/// <param name="IsOptional">Whether the parameter defaults to null, so a missing service is allowed.</param>
/// <param name="Name">The parameter's name, for the start-up check's message.</param>
internal sealed record DependencyModel(string TypeName, string? ServiceKey, bool IsOptional, string Name = "");

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
    EquatableArray<string> Errors)
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

    /// <summary>Where a referenced manifest contradicts the plugin class it names, or null.</summary>
    public ManifestMismatch? ManifestMismatch { get; init; }
}

/// <summary>What the host build takes from the compilation itself; read again on every edit, so only what is cheap.</summary>
/// <param name="AssemblyName">The host's assembly name, for its own plugins' descriptors.</param>
/// <param name="Version">The host's informational version, for its own plugins' descriptors.</param>
/// <param name="IsExecutable">Whether the project builds an executable (a host unless <c>ComposeHost</c> says otherwise).</param>
internal sealed record HostIdentity(string AssemblyName, string Version, bool IsExecutable);

/// <summary>How the references are read: with the host's name and import options, and only in a host.</summary>
internal sealed record ReferenceContext(string AssemblyName, MetadataImportOptions ImportOptions, bool IsHost);

/// <summary>What the references bring: whether Compose.Abstractions is one of them, its version, and the plugins of their manifests in reference order.</summary>
internal sealed record ReferencedManifests(bool ReferencesCompose, string? ComposeAbstractionsVersion, EquatableArray<PluginModel> Plugins)
{
    public static readonly ReferencedManifests None = new(false, null, EquatableArray<PluginModel>.Empty);
}
