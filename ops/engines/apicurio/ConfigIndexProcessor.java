package sluice.cidx;

import apicurio.common.app.components.config.index.DynamicPropertiesInfoRecorder;
import io.apicurio.common.apps.config.DynamicConfigPropertyDef;
import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import io.quarkus.arc.deployment.BeanDiscoveryFinishedBuildItem;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.arc.processor.InjectionPointInfo;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationValue;
import org.jboss.jandex.DotName;
import org.jboss.jandex.Type;

/**
 * The build step of the Quarkus extension `io.apicurio:apicurio-common-app-components-config-index`
 * (0.1.18.Final), whose deployment jar Maven Central does not serve: without it Apicurio Registry
 * 2.4.2 cannot be built. It lists every config property injected with `@ConfigProperty` and
 * marked `@Dynamic` (what the registry lets an admin change at run time) and publishes the list
 * as the `DynamicConfigPropertyList` bean, through the recorder the runtime jar ships.
 * ops/engines/registry.sh installs it into the local Maven repository under the missing
 * coordinates before it builds the registry.
 */
public class ConfigIndexProcessor {
  private static final DotName CONFIG_PROPERTY = DotName.createSimple("org.eclipse.microprofile.config.inject.ConfigProperty");
  private static final DotName DYNAMIC = DotName.createSimple("io.apicurio.common.apps.config.Dynamic");

  @BuildStep
  @Record(ExecutionTime.STATIC_INIT)
  void index(BeanDiscoveryFinishedBuildItem beans, DynamicPropertiesInfoRecorder recorder,
      BuildProducer<SyntheticBeanBuildItem> synthetic) throws ClassNotFoundException {
    Map<String, DynamicConfigPropertyDef> defs = new LinkedHashMap<>();
    // One definition per property name: several beans may inject the same property.
    for (InjectionPointInfo ip : beans.getInjectionPoints()) {
      AnnotationInstance cp = ip.getRequiredQualifier(CONFIG_PROPERTY);
      if (cp == null || ip.getTarget() == null) continue;
      AnnotationInstance dyn = ip.isField() ? ip.getTarget().asField().annotation(DYNAMIC) : null;
      if (dyn == null) continue;
      String name = cp.value("name").asString();
      AnnotationValue dv = cp.value("defaultValue");
      Type t = ip.getRequiredType();
      // Supplier<Boolean> and the like: the property's type is the type argument.
      if (t.kind() == Type.Kind.PARAMETERIZED_TYPE) t = t.asParameterizedType().arguments().get(0);
      Class<?> type = Class.forName(t.name().toString(), false, Thread.currentThread().getContextClassLoader());
      DynamicConfigPropertyDef def = new DynamicConfigPropertyDef(name, type, dv == null ? null : dv.asString());
      AnnotationValue label = dyn.value("label");
      if (label != null) def.setLabel(label.asString());
      AnnotationValue desc = dyn.value("description");
      if (desc != null) def.setDescription(desc.asString());
      AnnotationValue req = dyn.value("requires");
      if (req != null) def.setRequires(req.asStringArray());
      defs.put(name, def);
    }
    List<DynamicConfigPropertyDef> list = new ArrayList<>(defs.values());
    synthetic.produce(SyntheticBeanBuildItem.configure(DynamicConfigPropertyList.class)
        .runtimeValue(recorder.initializePropertiesInfo(list)).unremovable().done());
  }
}
