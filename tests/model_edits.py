"""Small, valid edits of processes/press_conference.bpmn and host_speaker.dmn used as new versions in tests."""

from __future__ import annotations

from tests.conftest import PROCESSES

BPMN = (PROCESSES / "press_conference.bpmn").read_text(encoding="utf-8")
DMN = (PROCESSES / "host_speaker.dmn").read_text(encoding="utf-8")

RECHECK_TASK = """
    <bpmn:userTask id="secrecy_recheck" name="保密复核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="secrecy_review" />
          <spiffworkflow:property name="dueInWorkdays" value="1" />
          <spiffworkflow:property name="candidateRoles" value="secrecy_reviewer" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_secrecy_pass</bpmn:incoming>
      <bpmn:outgoing>flow_recheck_office</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_recheck_office" sourceRef="secrecy_recheck" targetRef="office_topic_review" />
"""
RECHECK_DI = """
      <bpmndi:BPMNShape id="secrecy_recheck_di" bpmnElement="secrecy_recheck">
        <dc:Bounds x="960" y="600" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="flow_recheck_office_di" bpmnElement="flow_recheck_office">
        <di:waypoint x="1010" y="680" />
        <di:waypoint x="1010" y="750" />
      </bpmndi:BPMNEdge>
"""


def replaced(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, f"not in the model: {old}"
    return text.replace(old, new, count)


def with_secrecy_recheck(bpmn: str = BPMN) -> str:
    """Version 2: a 保密复核 step (secrecy_recheck) between a passed secrecy review and the office's topic review."""
    bpmn = replaced(bpmn, 'sourceRef="gw_secrecy_review" targetRef="office_topic_review"',
                    'sourceRef="gw_secrecy_review" targetRef="secrecy_recheck"')
    bpmn = replaced(bpmn, "<bpmn:incoming>flow_secrecy_pass</bpmn:incoming>",
                    "<bpmn:incoming>flow_recheck_office</bpmn:incoming>")
    bpmn = replaced(bpmn, "<bpmn:flowNodeRef>gw_secrecy_review</bpmn:flowNodeRef>",
                    "<bpmn:flowNodeRef>gw_secrecy_review</bpmn:flowNodeRef>\n"
                    "        <bpmn:flowNodeRef>secrecy_recheck</bpmn:flowNodeRef>")
    bpmn = replaced(bpmn, "  </bpmn:process>", RECHECK_TASK + "  </bpmn:process>")
    return replaced(bpmn, "    </bpmndi:BPMNPlane>", RECHECK_DI + "    </bpmndi:BPMNPlane>")


def without_step(bpmn: str, step: str, before: str, after: str) -> str:
    """Take ``step`` out of the chain: the flow into it goes straight to what came after it."""
    start = bpmn.index(f'<bpmn:userTask id="{step}"')
    end = bpmn.index("</bpmn:userTask>", start) + len("</bpmn:userTask>")
    bpmn = bpmn[:start] + bpmn[end:]
    bpmn = replaced(bpmn, f'targetRef="{step}"', f'targetRef="{after}"')
    bpmn = replaced(bpmn, f"<bpmn:flowNodeRef>{step}</bpmn:flowNodeRef>", "")
    outgoing_start = bpmn.index(f'sourceRef="{step}"')
    flow_start = bpmn.rindex("<bpmn:sequenceFlow", 0, outgoing_start)
    flow_end = bpmn.index("/>", outgoing_start) + 2
    flow_id = bpmn[flow_start:flow_end].split('id="')[1].split('"')[0]
    bpmn = bpmn[:flow_start] + bpmn[flow_end:]
    bpmn = replaced(bpmn, f"<bpmn:incoming>{flow_id}</bpmn:incoming>", f"<bpmn:incoming>{before}</bpmn:incoming>")
    for element in (step, flow_id):
        di_start = bpmn.index(f'bpmnElement="{element}"')
        open_at = bpmn.rindex("<bpmndi:", 0, di_start)
        tag = "</bpmndi:BPMNShape>" if bpmn[open_at:].startswith("<bpmndi:BPMNShape") else "</bpmndi:BPMNEdge>"
        bpmn = bpmn[:open_at] + bpmn[bpmn.index(tag, di_start) + len(tag):]
    return bpmn


def with_vice_mayor_for_the_office(dmn: str = DMN) -> str:
    """The decision table with 副市长 (vice_mayor) eligible as speaker at conferences in the office's name."""
    return replaced(dmn, '["unit_principal", "unit_spokesperson", "authorized_official"]',
                    '["unit_principal", "unit_spokesperson", "authorized_official", "vice_mayor"]')
