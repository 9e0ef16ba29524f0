using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Compose.Generator;

/// <summary>Turns Roslyn symbols into <see cref="PluginModel"/>s and diagnostic infos. Never throws on bad input.</summary>
internal static class PluginParser
{
    public const string ServerPluginAttributeName = "Compose.ServerPluginAttribute";
    public const string ManifestAttributeName = "Compose.ServerPluginManifestAttribute";
    public const string PluginInterfaceName = "Compose.IServerPlugin";
    private const string ServiceCollectionName = "Microsoft.Extensions.DependencyInjection.IServiceCollection";
    private const string ConfigurationName = "Microsoft.Extensions.Configuration.IConfiguration";
    private const string FromKeyedServicesName = "Microsoft.Extensions.DependencyInjection.FromKeyedServicesAttribute";

    /// <summary>The format used for type names in generated code: fully qualified, <c>global::</c>, no nullable marks.</summary>
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers | SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <summary>The format used for type names in messages: namespace-qualified, no <c>global::</c>.</summary>
    private static readonly SymbolDisplayFormat DisplayFormat = SymbolDisplayFormat.CSharpErrorMessageFormat;

    /// <summary>Parses one type carrying <c>[ServerPlugin]</c> in the current compilation.</summary>
    public static OwnPluginResult ParseOwn(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.IsDefaultOrEmpty)
        {
            return new OwnPluginResult(null, EquatableArray<DiagnosticInfo>.Empty);
        }

        var attribute = context.Attributes[0];
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        var display = type.ToDisplayString(DisplayFormat);
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var attributeLocation = LocationInfo.From(attributeSyntax?.GetLocation() ?? type.Locations.FirstOrDefault());

        if (type.TypeKind != TypeKind.Class)
        {
            diagnostics.Add(DiagnosticInfo.Create(ComposeDiagnostics.NotAClass, attributeLocation, display, KindName(type)));
            return new OwnPluginResult(null, diagnostics.ToImmutable().ToEquatableArray());
        }

        var (id, name, description, environments, entryScript) = ReadPluginAttribute(attribute);
        var idLocation = LocationInfo.From(attributeSyntax?.ArgumentList?.Arguments.FirstOrDefault()?.GetLocation()) ?? attributeLocation;
        var errors = new List<string>();

        if (!PluginId.IsValid(id))
        {
            errors.Add(ComposeDiagnostics.InvalidPluginId.Id);
            var suggestion = PluginId.Suggest(id, type.Name);
            diagnostics.Add(DiagnosticInfo.Create(ComposeDiagnostics.InvalidPluginId, idLocation, display, id ?? string.Empty, suggestion) with { SuggestedId = suggestion });
        }

        var shape = Inspect(type, context.SemanticModel.Compilation);
        foreach (var (descriptor, argument) in shape.Problems)
        {
            errors.Add(descriptor.Id);
            diagnostics.Add(descriptor == ComposeDiagnostics.MissingInterface || descriptor == ComposeDiagnostics.InvalidConfigureServices
                ? DiagnosticInfo.Create(descriptor, attributeLocation, display)
                : DiagnosticInfo.Create(descriptor, attributeLocation, display, argument));
        }

        var plugin = new PluginModel(
            id ?? string.Empty,
            name,
            description,
            shape.IsReferenceable ? type.ToDisplayString(TypeFormat) : string.Empty,
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)),
            errors.Count == 0,
            shape.Dependencies,
            shape.HasConfigureServices,
            shape.HasExitAsync,
            errors.Distinct().ToEquatableArray(),
            idLocation)
        {
            Environments = environments,
            EntryScript = entryScript,
        };

        return new OwnPluginResult(plugin, diagnostics.ToImmutable().ToEquatableArray());
    }

    /// <summary>Reads what the host needs from the compilation: its identity, output kind and referenced manifests.</summary>
    public static CompilationModel ParseCompilation(Compilation compilation, CancellationToken cancellationToken)
    {
        var pluginInterface = compilation.GetTypeByMetadataName(PluginInterfaceName);
        if (pluginInterface is null)
        {
            return CompilationModel.None;
        }

        var referenced = ImmutableArray.CreateBuilder<PluginModel>();
        var manifestAttribute = compilation.GetTypeByMetadataName(ManifestAttributeName);
        var composeAssembly = pluginInterface.ContainingAssembly;
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Only an assembly compiled against Compose.Abstractions can carry a manifest: skip the framework's
            // attributes without decoding them (this runs on every compilation change).
            if (manifestAttribute is null
                || SymbolEqualityComparer.Default.Equals(assembly, composeAssembly)
                || !assembly.Modules.Any(m => m.ReferencedAssemblies.Any(r => r.Name == composeAssembly.Identity.Name)))
            {
                continue;
            }

            foreach (var attribute in assembly.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, manifestAttribute))
                {
                    referenced.Add(ParseManifestEntry(attribute, assembly, compilation));
                }
            }
        }

        var isExecutable = compilation.Options.OutputKind is OutputKind.ConsoleApplication or OutputKind.WindowsApplication or OutputKind.WindowsRuntimeApplication;
        return new CompilationModel(
            true,
            compilation.AssemblyName ?? string.Empty,
            VersionOf(compilation.Assembly),
            isExecutable,
            pluginInterface.ContainingAssembly.Identity.Version.ToString(3),
            referenced.ToImmutable().ToEquatableArray());
    }

    private static PluginModel ParseManifestEntry(AttributeData attribute, IAssemblySymbol assembly, Compilation compilation)
    {
        var args = attribute.ConstructorArguments;
        var id = args.Length > 0 ? args[0].Value as string ?? string.Empty : string.Empty;
        var type = args.Length > 1 ? args[1].Value as INamedTypeSymbol : null;
        string? name = null, description = null, typeName = null, composeVersion = null, errorList = null, environments = null, entryScript = null, webAssetsPath = null;
        bool hasConfigureServices = false, hasExitAsync = false;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Name": name = named.Value.Value as string; break;
                case "Description": description = named.Value.Value as string; break;
                case "TypeName": typeName = named.Value.Value as string; break;
                case "ComposeVersion": composeVersion = named.Value.Value as string; break;
                case "Errors": errorList = named.Value.Value as string; break;
                case "Environments": environments = named.Value.Value as string; break;
                case "EntryScript": entryScript = named.Value.Value as string; break;
                case "WebAssetsPath": webAssetsPath = named.Value.Value as string; break;
                case "HasConfigureServices": hasConfigureServices = named.Value.Value is true; break;
                case "HasExitAsync": hasExitAsync = named.Value.Value is true; break;
            }
        }

        var errors = (errorList ?? string.Empty)
            .Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Trim())
            .Where(e => e.Length > 0)
            .ToList();

        // Check again what the host relies on: a manifest may be stale or hand-written.
        var dependencies = EquatableArray<DependencyModel>.Empty;
        var referenceable = false;
        if (type is not null && type.TypeKind != TypeKind.Error)
        {
            var shape = Inspect(type, compilation);
            referenceable = shape.IsReferenceable && shape.Problems.Count == 0;
            dependencies = shape.Dependencies;
            foreach (var (descriptor, _) in shape.Problems)
            {
                errors.Add(descriptor.Id);
            }
        }

        if (!PluginId.IsValid(id))
        {
            errors.Add(ComposeDiagnostics.InvalidPluginId.Id);
        }

        if (type is null && errors.Count == 0)
        {
            errors.Add(ComposeDiagnostics.PluginNotComposable.Id);
        }

        var display = type?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted))
            ?? typeName ?? "(unknown type)";
        return new PluginModel(
            id,
            name,
            description,
            referenceable ? type!.ToDisplayString(TypeFormat) : string.Empty,
            display,
            referenceable && errors.Count == 0,
            dependencies,
            hasConfigureServices,
            hasExitAsync,
            errors.Distinct().OrderBy(e => e, StringComparer.Ordinal).ToEquatableArray(),
            null)
        {
            AssemblyName = assembly.Identity.Name,
            Version = VersionOf(assembly),
            ComposeVersion = composeVersion,
            EntryScript = entryScript,
            WebAssetsPath = webAssetsPath,
            Environments = (environments ?? string.Empty)
                .Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(e => e.Trim())
                .Where(e => e.Length > 0)
                .ToEquatableArray(),
        };
    }

    private static (string? Id, string? Name, string? Description, EquatableArray<string> Environments, string? EntryScript) ReadPluginAttribute(AttributeData attribute)
    {
        var id = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
        string? name = null, description = null, entryScript = null;
        var environments = EquatableArray<string>.Empty;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Name":
                    name = named.Value.Value as string;
                    break;
                case "Description":
                    description = named.Value.Value as string;
                    break;
                case "EntryScript":
                    entryScript = named.Value.Value as string is { Length: > 0 } script ? script.TrimStart('/') : null;
                    break;
                case "Environments" when named.Value.Kind == TypedConstantKind.Array && !named.Value.IsNull:
                    environments = named.Value.Values
                        .Select(v => v.Value as string)
                        .Where(v => !string.IsNullOrWhiteSpace(v))
                        .Select(v => v!.Trim())
                        .ToEquatableArray();
                    break;
            }
        }

        return (id, name, description, environments, entryScript);
    }

    private sealed class Shape
    {
        public List<(DiagnosticDescriptor Descriptor, string Argument)> Problems { get; } = new();

        public bool IsReferenceable { get; set; } = true;

        public EquatableArray<DependencyModel> Dependencies { get; set; } = EquatableArray<DependencyModel>.Empty;

        public bool HasConfigureServices { get; set; }

        public bool HasExitAsync { get; set; }
    }

    /// <summary>Checks the class shape the generated code relies on and collects constructor dependencies.</summary>
    private static Shape Inspect(INamedTypeSymbol type, Compilation compilation)
    {
        var shape = new Shape();
        var reasons = new List<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility != Accessibility.Public)
            {
                reasons.Add(ReferenceEquals(current, type) ? "not public" : $"nested in the non-public type {current.Name}");
                break;
            }
        }

        if (type.IsStatic)
        {
            reasons.Add("static");
        }
        else if (type.IsAbstract)
        {
            reasons.Add("abstract");
        }

        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.TypeParameters.Length > 0)
            {
                reasons.Add(ReferenceEquals(current, type) ? "generic" : $"nested in the generic type {current.Name}");
                break;
            }
        }

        if (reasons.Count > 0)
        {
            shape.IsReferenceable = false;
            shape.Problems.Add((ComposeDiagnostics.PluginNotComposable, string.Join(" and ", reasons)));
        }

        var pluginInterface = compilation.GetTypeByMetadataName(PluginInterfaceName);
        if (pluginInterface is null || !type.AllInterfaces.Contains(pluginInterface, SymbolEqualityComparer.Default))
        {
            shape.Problems.Add((ComposeDiagnostics.MissingInterface, string.Empty));
        }
        else
        {
            var exit = pluginInterface.GetMembers("ExitAsync").FirstOrDefault();
            var implementation = exit is null ? null : type.FindImplementationForInterfaceMember(exit);
            shape.HasExitAsync = implementation is not null && implementation.ContainingType.TypeKind != TypeKind.Interface;
        }

        if (!type.IsStatic && !type.IsAbstract)
        {
            var constructors = type.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
            if (constructors.Count != 1)
            {
                shape.Problems.Add((ComposeDiagnostics.InvalidConstructor, constructors.Count == 0
                    ? "has no public constructor"
                    : $"has {constructors.Count} public constructors; keep one"));
            }
            else
            {
                var dependencies = ImmutableArray.CreateBuilder<DependencyModel>();
                foreach (var parameter in constructors[0].Parameters)
                {
                    if (parameter.RefKind != RefKind.None || parameter.IsParams || parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Error)
                    {
                        var problem = parameter.Type.TypeKind == TypeKind.Error
                            ? $"has a constructor parameter '{parameter.Name}' whose type cannot be found"
                            : $"has a constructor parameter '{parameter.Name}' that dependency injection cannot supply (ref, out, in, params or pointer)";
                        shape.Problems.Add((ComposeDiagnostics.InvalidConstructor, problem));
                        continue;
                    }

                    dependencies.Add(new DependencyModel(
                        parameter.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeFormat),
                        ServiceKeyOf(parameter),
                        parameter.HasExplicitDefaultValue && parameter.ExplicitDefaultValue is null));
                }

                shape.Dependencies = dependencies.ToImmutable().ToEquatableArray();
            }
        }

        // The nearest type that declares ConfigureServices wins, so a shared base class can provide it.
        var configureServices = new List<IMethodSymbol>();
        for (var current = type; current is not null && configureServices.Count == 0; current = current.BaseType)
        {
            configureServices.AddRange(current.GetMembers("ConfigureServices").OfType<IMethodSymbol>());
        }

        shape.HasConfigureServices = configureServices.Any(IsConfigureServices);
        if (configureServices.Count > 0 && !shape.HasConfigureServices)
        {
            shape.Problems.Add((ComposeDiagnostics.InvalidConfigureServices, string.Empty));
        }

        return shape;
    }

    private static bool IsConfigureServices(IMethodSymbol method)
        => method.IsStatic
           && method.DeclaredAccessibility == Accessibility.Public
           && method.ReturnsVoid
           && method.TypeParameters.Length == 0
           && method.Parameters.Length == 2
           && method.Parameters.All(p => p.RefKind == RefKind.None)
           && method.Parameters[0].Type.ToDisplayString() == ServiceCollectionName
           && method.Parameters[1].Type.ToDisplayString() == ConfigurationName;

    private static string? ServiceKeyOf(IParameterSymbol parameter)
    {
        foreach (var attribute in parameter.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == FromKeyedServicesName
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Kind == TypedConstantKind.Primitive)
            {
                return attribute.ConstructorArguments[0].ToCSharpString();
            }
        }

        return null;
    }

    private static string VersionOf(IAssemblySymbol assembly)
    {
        foreach (var attribute in assembly.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == "System.Reflection.AssemblyInformationalVersionAttribute"
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Value is string { Length: > 0 } informational)
            {
                return informational;
            }
        }

        return assembly.Identity.Version.ToString();
    }

    private static string KindName(INamedTypeSymbol type) => type.TypeKind switch
    {
        TypeKind.Struct => type.IsRecord ? "record struct" : "struct",
        TypeKind.Interface => "interface",
        TypeKind.Enum => "enum",
        TypeKind.Delegate => "delegate",
        _ => type.TypeKind.ToString().ToLowerInvariant(),
    };
}

/// <summary>Luker's plugin id rule: <c>^[a-z0-9_-]+$</c>.</summary>
internal static class PluginId
{
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return false;
        }

        foreach (var c in id!)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Suggests a valid id: "MyPlugin" → "my-plugin", "my.plugin" → "my-plugin". An empty id is derived from the
    /// class name without its "Plugin" suffix.
    /// </summary>
    public static string Suggest(string? id, string className)
    {
        var source = string.IsNullOrWhiteSpace(id) ? StripSuffix(className) : id!;
        var builder = new StringBuilder(source.Length + 4);
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (char.IsUpper(c))
            {
                var previous = i > 0 ? source[i - 1] : '\0';
                var next = i + 1 < source.Length ? source[i + 1] : '\0';
                if (i > 0 && (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && char.IsLower(next))))
                {
                    Append(builder, '-');
                }

                Append(builder, char.ToLowerInvariant(c));
            }
            else if (c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_')
            {
                builder.Append(c);
            }
            else if (char.IsLetter(c) && c < 128)
            {
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                Append(builder, '-');
            }
        }

        var suggestion = builder.ToString().Trim('-');
        return suggestion.Length > 0 ? suggestion : "plugin";
    }

    private static void Append(StringBuilder builder, char c)
    {
        if (c == '-' && (builder.Length == 0 || builder[builder.Length - 1] == '-'))
        {
            return;
        }

        builder.Append(c);
    }

    private static string StripSuffix(string className)
        => className.Length > "Plugin".Length && className.EndsWith("Plugin", StringComparison.Ordinal)
            ? className.Substring(0, className.Length - "Plugin".Length)
            : className;
}
