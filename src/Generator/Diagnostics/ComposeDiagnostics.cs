using Microsoft.CodeAnalysis;

namespace Compose.Generator;

/// <summary>
/// The catalog of Compose diagnostics: every descriptor the generator and the analyzers of this assembly report,
/// built from the ids in <see cref="DiagnosticIds"/>. Ids are stable; each has a page at
/// <c>docs/diagnostics/{id}.md</c>, its help link. Where one id covers several mistakes, each mistake has its own
/// descriptor and message (same id, title and severity). CMP0008 and CMP0009 belong to Compose.Analyzers.
/// </summary>
internal static class ComposeDiagnostics
{
    public const string Category = "Compose";
    private const string HelpLinkBase = "https://github.com/compose-dotnet/compose/blob/main/docs/diagnostics/";
    private const string ConfigureServicesSignature = "'public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)'";
    private const string ExitAsyncSignature = "'public Task ExitAsync(CancellationToken cancellationToken)'";

    // CMP0001 (analyzer, on the id argument)
    public static readonly DiagnosticDescriptor InvalidPluginId = Error(
        DiagnosticIds.InvalidPluginId,
        "Server plugin id is not valid",
        "The id '{1}' of server plugin {0} is not valid: use only lowercase letters, digits, '-' and '_' (^[a-z0-9_-]+$), for example '{2}'");

    // CMP0002 (analyzer at the end of the plugin's compilation, on the id argument of the later class)
    public static readonly DiagnosticDescriptor DuplicatePluginId = Error(
        DiagnosticIds.DuplicatePluginId,
        "Server plugin id is used more than once",
        "The server plugin id '{0}' is used by both {1} and {2} in this project; ids must be unique among all plugins a host composes, so give one of them another id",
        WellKnownDiagnosticTags.CompilationEnd);

    // CMP0002 (generator, host build): the host's own plugin and a package's plugin.
    public static readonly DiagnosticDescriptor DuplicateOfReferencedPluginId = Error(
        DiagnosticIds.DuplicatePluginId,
        "Server plugin id is used more than once",
        "The server plugin id '{0}' of this project's {1} is also used by {2} from the referenced package {3}; a host composes only one plugin per id, so give {1} another id, remove the reference to {3}, or switch {2} off with <ComposeExcludedPlugins>{2}</ComposeExcludedPlugins> in this project file");

    // CMP0002 (generator, host build): two packages' plugins.
    public static readonly DiagnosticDescriptor DuplicateReferencedPluginId = Error(
        DiagnosticIds.DuplicatePluginId,
        "Server plugin id is used more than once",
        "The server plugin id '{0}' is used by {1} from the referenced package {2} and by {3} from the referenced package {4}; a host composes only one plugin per id, so remove the reference to one of the packages, or switch one plugin off with <ComposeExcludedPlugins>{3}</ComposeExcludedPlugins> in this project file");

    // CMP0003 (analyzer, on the class identifier)
    public static readonly DiagnosticDescriptor PluginNotComposable = Error(
        DiagnosticIds.PluginNotComposable,
        "Server plugin class cannot be composed",
        "Server plugin {0} cannot be composed because it is {1}; make it a public, non-abstract, non-static, non-generic class, nested only in public types");

    // CMP0004 (analyzer, on the class identifier)
    public static readonly DiagnosticDescriptor MissingInterface = Error(
        DiagnosticIds.MissingInterface,
        "Server plugin class does not implement IServerPlugin",
        "Server plugin {0} does not implement Compose.IServerPlugin; add ': IServerPlugin' and a 'public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)' method");

    // CMP0005 (analyzer): on the class identifier when no constructor is usable, on each constructor when there are several.
    public static readonly DiagnosticDescriptor NoPublicConstructor = Error(
        DiagnosticIds.InvalidConstructor,
        "Server plugin class needs exactly one usable public constructor",
        "Server plugin {0} has no public constructor; the generated code calls one public constructor and resolves each of its parameters from dependency injection, so make one constructor public");

    public static readonly DiagnosticDescriptor SeveralPublicConstructors = Error(
        DiagnosticIds.InvalidConstructor,
        "Server plugin class needs exactly one usable public constructor",
        "Server plugin {0} has {1} public constructors; the generated code calls exactly one, so keep one public and make the others private or internal (they can still be chained with ': this(...)')");

    // CMP0005 (analyzer, on the parameter)
    public static readonly DiagnosticDescriptor UninjectableParameter = Error(
        DiagnosticIds.InvalidConstructor,
        "Server plugin class needs exactly one usable public constructor",
        "The constructor parameter '{1}' of server plugin {0} is {2}, which dependency injection cannot supply; pass services as plain parameters");

    // CMP0006 (analyzer, on the method identifier): one message per mistake.
    public static readonly DiagnosticDescriptor ConfigureServicesParameterCount = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} takes {1}, so Compose would never call it; it takes two parameters: " + ConfigureServicesSignature);

    public static readonly DiagnosticDescriptor ConfigureServicesParametersSwapped = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "The parameters of ConfigureServices of server plugin {0} are swapped, so Compose would never call it; put IServiceCollection first: " + ConfigureServicesSignature);

    public static readonly DiagnosticDescriptor ConfigureServicesParameterTypes = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} takes ({1}), so Compose would never call it; declare its parameters as (IServiceCollection services, IConfiguration configuration): " + ConfigureServicesSignature);

    public static readonly DiagnosticDescriptor ConfigureServicesNotStatic = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} is an instance method, so Compose would never call it (it runs before any plugin instance exists); make it static: " + ConfigureServicesSignature);

    public static readonly DiagnosticDescriptor ConfigureServicesNotPublic = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} is {1}, so the generated code cannot call it; make it public: " + ConfigureServicesSignature);

    public static readonly DiagnosticDescriptor ConfigureServicesReturnType = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} returns {1}, so Compose would never call it; make it return void: " + ConfigureServicesSignature);

    public static readonly DiagnosticDescriptor ConfigureServicesGeneric = Error(
        DiagnosticIds.InvalidConfigureServices,
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} is generic, so Compose would never call it; remove its type parameters: " + ConfigureServicesSignature);

    // CMP0007 (analyzer, on the attribute)
    public static readonly DiagnosticDescriptor NotAClass = Error(
        DiagnosticIds.NotAClass,
        "[ServerPlugin] is applied to a type that is not a class",
        "[ServerPlugin] is applied to {0}, which is a {1}; a server plugin is a class that implements IServerPlugin");

    // CMP0010 (generator, host build)
    public static readonly DiagnosticDescriptor InvalidReferencedPlugin = Error(
        DiagnosticIds.InvalidReferencedPlugin,
        "Referenced server plugin was built with Compose errors",
        "Server plugin '{0}' ({1}) in referenced assembly {2} breaks Compose rule(s) {3} that its build suppressed, so this host cannot compose it; fix the plugin and rebuild its package, or remove the reference to {2}");

    // CMP0011 (generator, host build)
    public static readonly DiagnosticDescriptor NewerComposeVersion = Error(
        DiagnosticIds.NewerComposeVersion,
        "Referenced server plugin needs a newer Compose",
        "Server plugin '{0}' in referenced assembly {1} was built with Compose {2}, a newer major version (or 0.x minor version) than the Compose.Abstractions {3} this host references; update the host's Compose.Abstractions package reference to {2} or later");

    // CMP0012 (analyzer, warning, on the method identifier)
    public static readonly DiagnosticDescriptor NearMissConfigureServices = Warning(
        DiagnosticIds.NearMissLifecycleMethod,
        "Method looks like a Compose lifecycle method but is never called",
        "Server plugin {0} declares {1}, which Compose never calls; did you mean " + ConfigureServicesSignature + "? Without it the plugin's services are not registered");

    public static readonly DiagnosticDescriptor NearMissExitAsync = Warning(
        DiagnosticIds.NearMissLifecycleMethod,
        "Method looks like a Compose lifecycle method but is never called",
        "Server plugin {0} declares {1}, which does not implement IServerPlugin.ExitAsync, so Compose never calls it at shutdown; did you mean " + ExitAsyncSignature + "?");

    // CMP0013 (analyzer, warning, on the pattern)
    public static readonly DiagnosticDescriptor RoutePatternRepeatsPrefix = Warning(
        DiagnosticIds.RoutePatternRepeatsPrefix,
        "Plugin route pattern repeats the host's plugin prefix",
        "Server plugin {0} maps '{1}', but its router is already its group under /api/plugins/{2}, so this route would answer at /api/plugins/{2}{3}; map '{4}' instead");

    // CMP0015 (analyzer, on the DependsOn entry)
    public static readonly DiagnosticDescriptor InvalidDependencyId = Error(
        DiagnosticIds.InvalidDependencyId,
        "DependsOn entry is not a valid plugin id",
        "Server plugin {0} depends on '{1}', which is not a valid plugin id: plugin ids use only lowercase letters, digits, '-' and '_' (^[a-z0-9_-]+$); write the id of the plugin it needs, as in that plugin's [ServerPlugin(\"...\")]");

    // CMP0016 (analyzer, on the DependsOn entry)
    public static readonly DiagnosticDescriptor SelfDependency = Error(
        DiagnosticIds.SelfDependency,
        "Server plugin depends on itself",
        "Server plugin {0} lists its own id '{1}' in DependsOn; a plugin cannot depend on itself, so remove the entry");

    // CMP0017 (analyzer, warning, on the repeated DependsOn entry)
    public static readonly DiagnosticDescriptor DuplicateDependency = Warning(
        DiagnosticIds.DuplicateDependency,
        "DependsOn entry is listed more than once",
        "Server plugin {0} lists '{1}' more than once in DependsOn; remove the repeated entry");

    // CMP0022 (analyzer, on the Environments entry)
    public static readonly DiagnosticDescriptor InvalidEnvironmentName = Error(
        DiagnosticIds.InvalidEnvironmentName,
        "Environments entry cannot be a host environment name",
        "Server plugin {0} lists the environment '{1}', which {2}; the plugin's manifest and the Environments setting are comma-separated lists of trimmed names, so a host would read another name: write the environment name as IHostEnvironment.EnvironmentName has it");

    // CMP0018 (generator, host build)
    public static readonly DiagnosticDescriptor MissingDependency = Error(
        DiagnosticIds.MissingDependency,
        "Server plugin depends on a plugin this host does not compose",
        "Server plugin '{0}' ({1}) depends on server plugin '{2}', which this host does not compose; add a reference to the package that contains server plugin '{2}', or leave '{0}' out with <ComposeExclude Include=\"{0}\" /> in this project file");

    // CMP0018 (generator, host build): the dependency is there, but this host's project file leaves it out.
    public static readonly DiagnosticDescriptor ExcludedDependency = Error(
        DiagnosticIds.MissingDependency,
        "Server plugin depends on a plugin this host does not compose",
        "Server plugin '{0}' ({1}) depends on server plugin '{2}', which this project leaves out at build time with {3}; remove that exclusion, or leave '{0}' out too with <ComposeExclude Include=\"{0}\" />");

    // CMP0019 (generator, host build)
    public static readonly DiagnosticDescriptor DependencyCycle = Error(
        DiagnosticIds.DependencyCycle,
        "Server plugins depend on each other in a cycle",
        "Server plugins depend on each other in a cycle: {0}; no order can initialise them, so remove one of these DependsOn entries");

    // CMP0020 (generator, host build)
    public static readonly DiagnosticDescriptor ManifestMismatch = Error(
        DiagnosticIds.ManifestMismatch,
        "Referenced server plugin's manifest does not match its class",
        "The manifest of server plugin '{0}' in referenced assembly {1} says {2}, but its class {3} {4}, so this host cannot compose it safely; rebuild the package {1} with Compose (the manifest is written by the generator, never by hand), or remove the reference");

    // CMP0021 (generator, host build, warning): one message per kind of exclusion that leaves nothing out.
    public static readonly DiagnosticDescriptor ExcludedIdMatchesNothing = Warning(
        DiagnosticIds.ExclusionMatchesNothing,
        "Build-time exclusion matches no server plugin",
        "<ComposeExclude Include=\"{0}\" /> matches no server plugin of this host, so it leaves nothing out (this host's plugins: {1}); correct the id, or remove the item from the project file");

    public static readonly DiagnosticDescriptor ExcludedIdNotAnId = Warning(
        DiagnosticIds.ExclusionMatchesNothing,
        "Build-time exclusion matches no server plugin",
        "<ComposeExclude Include=\"{0}\" /> is not a plugin id (ids use only lowercase letters, digits, '-' and '_': ^[a-z0-9_-]+$), so it leaves nothing out; write the plugin's id, as in its [ServerPlugin(\"...\")] or the catalog at GET /api/plugins (this host's plugins: {1})");

    public static readonly DiagnosticDescriptor ExcludedIdIsAClassName = Warning(
        DiagnosticIds.ExclusionMatchesNothing,
        "Build-time exclusion matches no server plugin",
        "<ComposeExclude Include=\"{0}\" /> names the class of server plugin '{1}', but ComposeExclude takes plugin ids, so it leaves nothing out; write <ComposeExclude Include=\"{1}\" />");

    public static readonly DiagnosticDescriptor ExcludedClassMatchesNothing = Warning(
        DiagnosticIds.ExclusionMatchesNothing,
        "Build-time exclusion matches no server plugin",
        "ComposeExcludedPlugins names {0}, which is no server plugin class of this host, so it leaves nothing out; write the plugin class's full name (namespace and class), or leave a plugin out by id with <ComposeExclude Include=\"plugin-id\" />");

    private static DiagnosticDescriptor Error(string id, string title, string message, params string[] tags)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md", customTags: tags);

    private static DiagnosticDescriptor Warning(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md");
}
