namespace Compose.Generator;

/// <summary>
/// The ids of Compose's diagnostics and the keys of the properties they carry, written once. The descriptors in
/// <see cref="ComposeDiagnostics"/> and the code fixes (which compile this file too) use these constants.
/// </summary>
/// <remarks>CMP0008 and CMP0009 (route registration) are declared by Compose.Analyzers' RouteDiagnostics.</remarks>
internal static class DiagnosticIds
{
    /// <summary>The plugin id does not match <c>^[a-z0-9_-]+$</c>.</summary>
    public const string InvalidPluginId = "CMP0001";

    /// <summary>Two plugins of one composition share an id.</summary>
    public const string DuplicatePluginId = "CMP0002";

    /// <summary>The plugin class is not public, abstract, static or generic.</summary>
    public const string PluginNotComposable = "CMP0003";

    /// <summary>The plugin class does not implement <c>IServerPlugin</c>.</summary>
    public const string MissingInterface = "CMP0004";

    /// <summary>The plugin class has no single public constructor the generated code can call.</summary>
    public const string InvalidConstructor = "CMP0005";

    /// <summary>A method named <c>ConfigureServices</c> has the wrong signature.</summary>
    public const string InvalidConfigureServices = "CMP0006";

    /// <summary><c>[ServerPlugin]</c> on a type that is not a class.</summary>
    public const string NotAClass = "CMP0007";

    /// <summary>A referenced plugin was built with Compose errors.</summary>
    public const string InvalidReferencedPlugin = "CMP0010";

    /// <summary>A referenced plugin was built with a newer major version of Compose.</summary>
    public const string NewerComposeVersion = "CMP0011";

    /// <summary>A method that is nearly <c>ConfigureServices</c> or <c>ExitAsync</c>, which Compose would never call.</summary>
    public const string NearMissLifecycleMethod = "CMP0012";

    /// <summary>A plugin route pattern that starts with the host's plugin route prefix.</summary>
    public const string RoutePatternRepeatsPrefix = "CMP0013";

    /// <summary>A <c>DependsOn</c> entry is not a valid plugin id.</summary>
    public const string InvalidDependencyId = "CMP0015";

    /// <summary>A plugin lists its own id in <c>DependsOn</c>.</summary>
    public const string SelfDependency = "CMP0016";

    /// <summary>A <c>DependsOn</c> entry is listed more than once.</summary>
    public const string DuplicateDependency = "CMP0017";

    /// <summary>A composed plugin depends on a plugin the host does not compose.</summary>
    public const string MissingDependency = "CMP0018";

    /// <summary>Composed plugins depend on each other in a cycle.</summary>
    public const string DependencyCycle = "CMP0019";

    /// <summary>A referenced plugin's manifest disagrees with the plugin class it names.</summary>
    public const string ManifestMismatch = "CMP0020";

    /// <summary>A build-time exclusion (<c>&lt;ComposeExclude Include="id" /&gt;</c>, <c>ComposeExcludedPlugins</c>) matches no plugin.</summary>
    public const string ExclusionMatchesNothing = "CMP0021";

    /// <summary>Diagnostic property: the valid plugin id a CMP0001 fix writes.</summary>
    public const string SuggestedIdProperty = "SuggestedId";

    /// <summary>Diagnostic property: the lifecycle method a CMP0012 fix turns the method into (<c>ConfigureServices</c> or <c>ExitAsync</c>).</summary>
    public const string IntendedMethodProperty = "IntendedMethod";

    /// <summary>Diagnostic property: the route pattern a CMP0013 fix writes instead.</summary>
    public const string RelativePatternProperty = "RelativePattern";

    /// <summary>The static service-registration hook; also a value of <see cref="IntendedMethodProperty"/>.</summary>
    public const string ConfigureServicesName = "ConfigureServices";

    /// <summary>The optional shutdown method of <c>IServerPlugin</c>; also a value of <see cref="IntendedMethodProperty"/>.</summary>
    public const string ExitAsyncName = "ExitAsync";

    /// <summary>An <c>Environments</c> entry that the manifest and the <c>Environments</c> setting cannot carry unchanged.</summary>
    public const string InvalidEnvironmentName = "CMP0022";
}
